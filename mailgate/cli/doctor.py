"""`mailgate doctor`: settings that are valid on their own but unsafe or useless on the site
as it is set up. It reads the configuration and the last received mail, changes nothing,
and exits 1 when it has something to say (0 when not), so it can run from monitoring.

Today it knows one thing, the one a valid configuration cannot show: `trusted_authserv_ids`
believes the topmost Authentication-Results header with that id, which anyone can write into
a mail unless the MX removes incoming copies and adds its own (deploy/postfix/authres.*)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import click

from mailgate.cli.context import Context, pass_ctx
from mailgate.cli.output import emit_json

if TYPE_CHECKING:
    from mailgate.config import Settings

RECENT = 50  # received mails looked at for the MX's Authentication-Results


@dataclass(frozen=True)
class Finding:
    check: str
    text: str


def authentication_results(settings: Settings, recent: list[bytes]) -> tuple[list[Finding], list[str]]:
    """Findings and facts about [commands] trusted_authserv_ids, given the raw bytes of the
    last received mails (newest first)."""
    from mailgate.parse import parse_headers
    from mailgate.verify import parse_authentication_results

    commands = settings.commands
    trusted = {t.lower() for t in commands.trusted_authserv_ids}
    if not trusted:
        return [], ["commands.trusted_authserv_ids is empty: commands are believed by reply address only"]
    ids = ", ".join(sorted(trusted))
    findings = []
    if not commands.mx_strips_authentication_results:
        findings.append(Finding("authentication-results", (
            f"commands.trusted_authserv_ids = [{ids}], but it is not known that your MX removes the "
            "Authentication-Results headers that arrive with a mail: unless it does, anyone can write "
            f"'Authentication-Results: {sorted(trusted)[0]}; dmarc=pass' into a mail and run commands as "
            "someone else. Strip them at the MX and let it add its own (deploy/postfix/authres.main.cf.example, "
            "docs/deploy.md), then set commands.mx_strips_authentication_results = true")))
    carrying = 0
    for raw in recent:
        values = [v for k, v in parse_headers(raw) if k.lower() == "authentication-results"]
        carrying += any(parse_authentication_results(v)[0] in trusted for v in values)
    facts = [f"{carrying} of the last {len(recent)} received mail(s) carry an Authentication-Results header of {ids}"]
    if recent and not carrying and commands.mx_strips_authentication_results:
        findings.append(Finding("authentication-results", (
            f"none of the last {len(recent)} received mails carries an Authentication-Results header of {ids}: "
            "is the milter that adds them (OpenDKIM/OpenDMARC, rspamd) running, with that AuthservID? "
            "Until it is, no command is verified by DMARC or DKIM")))
    return findings, facts


def recent_raw(settings: Settings, limit: int = RECENT) -> list[bytes]:
    """Raw bytes of the newest received mails (the store must be open)."""
    from mailgate.db.models import Message
    from mailgate.spool import Spool

    spool = Spool(settings.spool_dir)
    rows = (Message.select(Message.raw_sha256).where((Message.direction == "in") & (Message.raw_sha256 != ""))
            .order_by(Message.id.desc()).limit(limit))
    found = []
    for row in rows:
        try:
            found.append(spool.read_raw(row.raw_sha256))
        except OSError:  # archived or cleaned away: look at the others
            continue
    return found


@click.command()
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def doctor(ctx: Context, as_json: bool) -> None:
    """Check the set-up for settings that are unsafe as deployed; exit 1 if anything is found."""
    settings = ctx.settings
    recent: list[bytes] = []
    if settings.commands.trusted_authserv_ids:
        ctx.env  # noqa: B018 - opens the store
        recent = recent_raw(settings)
    findings, facts = authentication_results(settings, recent)
    if as_json:
        emit_json({"findings": [asdict(f) for f in findings], "facts": facts})
    else:
        for fact in facts:
            click.echo(f"  {fact}")
        for finding in findings:
            click.echo(f"warning [{finding.check}]: {finding.text}")
        click.echo(f"{len(findings)} warning(s)" if findings else "OK: nothing to report")
    raise SystemExit(1 if findings else 0)
