"""`mailgate rules check|test` and `mailgate alerts list`."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import click

from mailgate.cli.context import Context, pass_ctx
from mailgate.cli.output import emit_json, table


@click.group()
def rules() -> None:
    """Validate the rule files (rules/*.toml) and try them on a message."""


@rules.command("check")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def check_rules(ctx: Context, as_json: bool) -> None:
    """Load and validate every rule file; exit 78 naming file, rule and key on an error."""
    from mailgate.rules import load_rules

    ruleset = load_rules(ctx.settings)
    rows = [{"file": r.source, "name": r.name, "description": r.description,
             "actions": [a.key for a in r.actions]} for r in ruleset.rules]
    if as_json:
        emit_json({"folder": str(ctx.settings.rules_dir), "files": list(ruleset.files),
                   "rules": rows})
        return
    table(["file", "rule", "actions", "description"],
          [[r["file"], r["name"], ",".join(r["actions"]), r["description"]] for r in rows], empty="No rules.")
    click.echo(f"OK: {len(rows)} rule(s) in {len(ruleset.files)} file(s) "
               f"from {ctx.settings.rules_dir}")


def _what_happens(decision: Any) -> list[str]:
    """The Decision in words: what the database stages would do with it."""
    d = decision
    said: list[str] = []
    if d.hold:
        said.append(f"held in the quarantine until released: {d.hold}")
    elif d.drop:
        said.append(f"dropped (recorded, not stored on a ticket): {d.drop}")
    elif d.fingerprint:
        said.append({
            "problem": f"alert {d.fingerprint!r}: opens a ticket, or is counted on its open ticket "
                       "(reopens it when it recovered within the flap window)",
            "recovery": f"recovery of {d.fingerprint!r}: resolves its open ticket (dropped if none is open)",
            "note": f"note about {d.fingerprint!r}: stored on its open ticket (dropped if none is open)",
        }[d.alert])
        if d.alert_state:
            said.append(f"alert state: {d.alert_state}")
    for key in ("queue", "subject", "priority", "owner", "status"):
        if getattr(d, key) is not None:
            said.append(f"{key}: {getattr(d, key)}" + (" (for a new ticket)" if key in ("queue", "subject") else ""))
    if d.nosy:
        said.append("nosy: +" + ", +".join(d.nosy))
    if d.tags:
        said.append("tags: " + ", ".join(d.tags))
    return said


def _test_one(path: Path, recipients: tuple[str, ...], settings: Any, ruleset: Any) -> dict[str, Any]:
    from mailgate.core.entry import SpoolEntry
    from mailgate.core.errors import PolicyOutcome
    from mailgate.core.message import Inbound
    from mailgate.env import Env, template_env, utc_clock
    from mailgate.pipeline import PURE_STAGES

    raw = path.read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    msg = Inbound(entry=SpoolEntry(name="rules-test", sha256=sha, source="rules-test", recipients=recipients), raw=raw)
    # nothing is spooled or stored: only the pure stages up to the rules run, on this Env
    env = Env(settings=settings, spool=None, templates=template_env(settings), clock=utc_clock,  # type: ignore[arg-type]
              rules=ruleset)
    result: dict[str, Any] = {"file": str(path), "message_id": "", "subject": "", "auto_class": "",
                              "matched": [], "decision": None, "effects": []}
    try:
        for stage in PURE_STAGES:
            stage(msg, env)
            if stage.name == "rules":
                break
    except PolicyOutcome as signal:
        if msg.rules is None:
            result["effects"] = [f"{signal.outcome} before the rules ran: {signal.reason}"]
    except (ValueError, LookupError) as exc:
        result["effects"] = [f"unreadable, would be quarantined: {exc}"]
    if msg.parsed:
        result.update(message_id=msg.parsed.message_id, subject=msg.parsed.subject, auto_class=msg.auto_class,
                      queue=msg.queue.name if msg.queue else None)
    if msg.rules is not None:
        result["matched"] = list(msg.rules.matched)
        result["decision"] = msg.rules.as_dict()
        result["effects"] = _what_happens(msg.rules)
    elif not result["effects"]:
        result["effects"] = ["no rule matched: handled as ordinary mail"]
    return result


@rules.command("test")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--recipient", "-r", multiple=True, metavar="ADDR", help="Envelope recipient, as the MTA would pass it.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def test_rules(ctx: Context, files: tuple[Path, ...], recipient: tuple[str, ...], as_json: bool) -> None:
    """Show which rules match each message FILE and what they would do; stores nothing."""
    from mailgate.rules import load_rules

    settings = ctx.settings
    ruleset = load_rules(settings)
    results = [_test_one(path, recipient, settings, ruleset) for path in files]
    if as_json:
        emit_json(results)
        return
    for r in results:
        click.echo(f"{r['file']}\n  subject: {r['subject']}\n  auto_class: {r['auto_class'] or '-'}")
        if r["decision"]:
            for step in r["decision"]["steps"]:
                click.echo(f"  rule {step['rule']}: {step['action']} = {step['value']}")
            if r["decision"]["groups"]:
                click.echo("  groups: " + ", ".join(f"{k}={v!r}" for k, v in sorted(r["decision"]["groups"].items())))
        for effect in r["effects"]:
            click.echo(f"  => {effect}")


@click.group()
def alerts() -> None:
    """Monitoring alerts grouped by fingerprint (see docs/rules.md)."""


@alerts.command("list")
@click.option("--open", "only_open", is_flag=True, help="Only fingerprints whose ticket is open.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def list_alerts(ctx: Context, only_open: bool, as_json: bool) -> None:
    """One line per fingerprint: its ticket, state and counters."""
    import peewee as pw

    from mailgate.db.models import ACTIVE_STATUSES, AlertGroup, Ticket

    ctx.env  # noqa: B018 - opens the database
    query = AlertGroup.select(AlertGroup, Ticket).join(Ticket, join_type=pw.JOIN.LEFT_OUTER).order_by(AlertGroup.last_seen.desc())
    if only_open:
        query = query.where(Ticket.status.in_(ACTIVE_STATUSES))
    rows = [{"fingerprint": g.fingerprint, "source": g.source, "ticket": g.ticket_id,
             "ticket_status": g.ticket.status if g.ticket_id else None, "state": g.state,
             "state_text": g.state_text, "occurrences": g.occurrences, "reopened": g.reopened,
             "first_seen": g.first_seen.isoformat() + "Z", "last_seen": g.last_seen.isoformat() + "Z",
             "notified_at": g.notified_at.isoformat() + "Z" if g.notified_at else None}
            for g in query]
    if as_json:
        emit_json(rows)
        return
    table(["ticket", "status", "state", "count", "flaps", "last seen", "fingerprint"],
          [[f"#{r['ticket']}" if r["ticket"] else "-", r["ticket_status"] or "-",
            r["state_text"] or r["state"], r["occurrences"], r["reopened"], r["last_seen"][:16].replace("T", " "),
            r["fingerprint"]] for r in rows], empty="No alerts.")


@rules.command("log")
@click.option("--ticket", "ticket_id", type=int, help="Only messages of this ticket.")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def rules_log(ctx: Context, ticket_id: int | None, limit: int, as_json: bool) -> None:
    """Which rules matched which messages, newest first, and how each message ended."""
    from mailgate.db.models import RuleMatch

    ctx.env  # noqa: B018 - opens the database
    query = RuleMatch.select().order_by(RuleMatch.id.desc()).limit(limit)
    if ticket_id is not None:
        query = query.where(RuleMatch.ticket == ticket_id)
    rows = [{"at": m.at.isoformat() + "Z", "message_id": m.message_id, "rules": m.rules or [],
             "outcome": m.outcome, "ticket": m.ticket_id, "detail": m.detail, "sha256": m.raw_sha256}
            for m in query]
    if as_json:
        emit_json(rows)
        return
    table(["at", "outcome", "ticket", "rules", "message-id", "detail"],
          [[r["at"][:19].replace("T", " "), r["outcome"], f"#{r['ticket']}" if r["ticket"] else "-",
            ",".join(r["rules"]), r["message_id"], r["detail"]] for r in rows], empty="No rule matches.")
