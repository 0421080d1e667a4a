"""`mailgate ticket note|reply|command N`: staff on the server work a ticket from the shell,
through the ticket service, exactly as the same person's mail to the ticket would: the
same permissions (the role of `--as` on that ticket), history (source "cli") and alert mails.

The text comes from the argument, from `--file PATH`, or from standard input (`-`, or no
text argument with input piped in). The receipt is printed (`--json` for scripts): the
commands applied and refused with their reasons, the changes and the mails queued.

Exit codes: 0 done (refused commands are in the receipt), 65 nothing to add, 66 no such
ticket, 77 not permitted (`--as` is not staff; a note by someone who is not staff), 1 other
errors (an archived ticket).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mailgate.cli.context import Context, pass_ctx
from mailgate.cli.output import emit_json

EX_DATAERR, EX_NOINPUT, EX_NOPERM = 65, 66, 77


def _text(text: str | None, file: Path | None) -> str:
    if file is not None:
        if text:
            raise click.UsageError("give the text as an argument or with --file, not both")
        return file.read_text(encoding="utf-8")
    if text == "-" or (text is None and not sys.stdin.isatty()):
        return sys.stdin.read()
    if text is None:
        raise click.UsageError("no text: give it as an argument, with --file PATH, or on standard input")
    return text


def _attachments(paths: tuple[Path, ...]) -> list[tuple[str, str, bytes]]:
    import mimetypes

    return [(p.name, mimetypes.guess_type(p.name)[0] or "application/octet-stream", p.read_bytes()) for p in paths]


def _staff(ctx: Context, address: str) -> str:
    address = address.strip().lower()
    person = ctx.settings.person(address)
    if person is None or person.role not in ("technician", "admin"):
        _fail(f"--as {address}: not a technician or admin in the staff directory ([[person]] in the "
              "configuration); staff act from the shell, requesters by mail", EX_NOPERM)
    return address


def _fail(text: str, code: int) -> None:
    click.echo(f"mailgate: {text}", err=True)
    sys.exit(code)


def _run(ctx: Context, how: str, number: int, actor: str, text: str, as_json: bool,
         attach: tuple[Path, ...] = ()) -> None:
    from mailgate.core.errors import Conflict, Forbidden, Invalid, NotFound
    from mailgate.tickets import TicketService

    service = TicketService(ctx.env)
    actor = _staff(ctx, actor)
    try:
        if how == "command":
            receipt = service.command(number, actor, text, source="cli")
        else:
            receipt = getattr(service, how)(number, actor, text, source="cli", attachments=_attachments(attach))
    except NotFound as exc:
        _fail(str(exc), EX_NOINPUT)
    except Forbidden as exc:
        _fail(str(exc), EX_NOPERM)
    except Invalid as exc:
        _fail(str(exc), EX_DATAERR)
    except Conflict as exc:
        _fail(str(exc), 1)
    data = receipt.as_dict()
    if as_json:
        emit_json(data)
        return
    kind = "internal note" if data["internal"] else "message"
    click.echo(f"ticket #{data['ticket']}: {kind} {data['message_id']} by {actor}")
    for item in data["applied"]:
        click.echo(f"  applied: {item['result']}")
    for item in data["refused"]:
        click.echo(f"  refused: {item['line']}\n      {item['reason']}")
    click.echo(f"  {len(data['outbox'])} mail(s) queued (sent by the daemon, or `mailgate outbox send`)")
    if data["help_requested"]:
        from mailgate.commands import help_text

        click.echo("\nCommands (one per line at the top of the text):\n" + help_text(ctx.env.commands))


_TEXT = click.argument("text", required=False)
_FILE = click.option("--file", "file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="Read the text from this file.")
_AS = click.option("--as", "actor", required=True, metavar="ADDRESS",
                   help="The staff member acting (a technician or admin in [[person]]).")
_JSON = click.option("--json", "as_json", is_flag=True, help="Print the receipt as JSON.")
_ATTACH = click.option("--attach", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
                       help="Attach a file (repeat for more).")


def _writer(how: str, help_text: str) -> click.Command:
    """`note` and `reply`: the same options, a different act."""

    @click.command(how, help=help_text)
    @click.argument("number", type=int)
    @_TEXT
    @_FILE
    @_AS
    @_ATTACH
    @_JSON
    @pass_ctx
    def write(ctx: Context, number: int, text: str | None, file: Path | None, actor: str, attach: tuple[Path, ...],
              as_json: bool) -> None:
        _run(ctx, how, number, actor, _text(text, file), as_json, attach)

    return write


note = _writer("note", "Add an internal note to ticket NUMBER (staff see it; the requester never does).")
reply = _writer("reply", "Reply on ticket NUMBER: mailed to the requester and the nosy list. The text is not "
                         "read for commands.")


@click.command("command")
@click.argument("number", type=int)
@_TEXT
@_FILE
@_AS
@_JSON
@pass_ctx
def command(ctx: Context, number: int, text: str | None, file: Path | None, actor: str, as_json: bool) -> None:
    """Run commands on ticket NUMBER, written as in a mail ("status: resolved", one per line
    at the top; any text below them is a reply). `mailgate ticket command 1 --as ADDR help`
    lists the commands."""
    _run(ctx, "command", number, actor, _text(text, file), as_json)
