"""`mailgate search QUERY` and `mailgate search reindex`."""

from __future__ import annotations

import html
import re
import sys

import click

from mailgate.cli.context import Context, pass_ctx
from mailgate.cli.output import emit_json

SUBCOMMANDS = ("query", "reindex")


class SearchGroup(click.Group):
    """`mailgate search printer toner` is `mailgate search query printer toner`: a query is
    the common case; the word `reindex` alone is the rebuild (search for it with `query`)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in SUBCOMMANDS and args[0] not in ("-h", "--help"):
            args = ["query", *args]
        return super().parse_args(ctx, args)


@click.group(cls=SearchGroup)
def search() -> None:
    """Full-text search: messages within tickets, best first (see docs/search.md).

    \b
    mailgate search printer toner
    mailgate search '"paper jam" from:bob queue:ops after:2024-05-01'
    mailgate search reindex
    """


def _plain(snippet: str) -> str:
    """The snippet for a terminal: hits in [brackets], entities decoded."""
    return html.unescape(re.sub(r"</?mark>", lambda m: "]" if m.group().startswith("</") else "[", snippet))


@search.command("query")
@click.argument("words", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="A list of hits (ticket, message_id, snippet, score, ...).")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--group", is_flag=True, help="Group the hits by ticket.")
@click.option("--as", "as_address", metavar="ADDRESS", help="Only what this person may see (default: everything).")
@pass_ctx
def query(ctx: Context, words: tuple[str, ...], as_json: bool, limit: int, group: bool, as_address: str | None) -> None:
    """Search for WORDS (the query language of docs/search.md)."""
    from mailgate.db.models import Person
    from mailgate.search import OPERATOR, QueryError, group_by_ticket, search, viewer_for

    ctx.env  # noqa: B018 - opens the database
    viewer = OPERATOR
    if as_address:
        person = Person.get_or_none(Person.address == as_address.strip().lower())
        if person is None:
            raise click.BadParameter(f"nobody with the address {as_address!r} is known here", param_hint="--as")
        viewer = viewer_for(ctx.settings, person)
    try:
        result = search(" ".join(words), viewer, limit=limit)
    except QueryError as exc:
        raise click.UsageError(f"search: {exc}") from None
    if result.note:
        click.echo(f"mailgate: note: {result.note}", err=True)
    if as_json:
        emit_json(group_by_ticket(result.hits) if group else [h.as_dict() for h in result.hits])
        return
    if not result.hits:
        click.echo("No messages found.")
        return
    last_ticket = None
    for h in result.hits:
        if not group or h.ticket != last_ticket:
            click.echo(f"#{h.ticket} [{h.status}] {h.ticket_subject}" + ("" if group else f"  ({h.score:.2f})"))
        last_ticket = h.ticket
        where = " (internal note)" if h.internal else ""
        quoted = f" (quoted in {', '.join(map(str, h.quoted_in))})" if h.quoted_in else ""
        click.echo(f"    message {h.message} {h.date or ''} {h.sender}{where}{quoted}")
        click.echo(f"    {_plain(h.snippet)}")


@search.command("reindex")
@click.option("--restart", is_flag=True, help="Start again from the first message instead of resuming.")
@click.option("--batch", type=click.IntRange(10, 100_000), default=2000, show_default=True,
              help="Messages per transaction.")
@pass_ctx
def reindex_command(ctx: Context, restart: bool, batch: int) -> None:
    """Rebuild the search index (resumes an interrupted rebuild; safe while the daemon runs)."""
    from mailgate.search import index_size, reindex
    from mailgate.search.index import pending

    ctx.env  # noqa: B018
    left, upto = pending(restart)
    with click.progressbar(length=left, label=f"indexing messages up to #{upto}", file=sys.stderr,
                           show_pos=True) as bar:
        done = reindex(batch=batch, progress=bar.update)
    click.echo(f"indexed {done} message(s); the index takes {index_size() / 1e6:.1f} MB")
