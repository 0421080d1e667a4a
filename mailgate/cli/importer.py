"""`mailgate import`: mbox files, Maildirs and folders of .eml files."""

from __future__ import annotations

import mailbox
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import click

from mailgate.cli.context import Context, pass_ctx
from mailgate.cli.output import emit_json


def _is_mbox(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(5) == b"From "


def iter_messages(path: Path) -> Iterator[tuple[str, bytes]]:
    """(label, raw bytes) for every message under path, in a stable order."""
    if path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir():
        box = mailbox.Maildir(str(path), factory=None, create=False)
        for key in sorted(box.keys()):
            yield f"{path}:{key}", box.get_bytes(key)
    elif path.is_dir():
        for child in sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")):
            yield from iter_messages(child)
    elif _is_mbox(path):
        box = mailbox.mbox(str(path), create=False)
        for key in box.keys():
            yield f"{path}:{key}", box.get_bytes(key)
    else:
        yield str(path), path.read_bytes()


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_ctx
def import_(ctx: Context, paths: tuple[Path, ...], as_json: bool) -> None:
    """Import mbox files, Maildirs and folders of .eml files."""
    from mailgate.pipeline import drain

    env = ctx.env
    messages = [m for p in paths for m in iter_messages(p)]
    counts: Counter[str] = Counter()
    with click.progressbar(messages, label="Importing", file=click.get_text_stream("stderr"),
                           show_pos=True) as bar:
        for label, raw in bar:
            if not raw.strip():
                counts["empty"] += 1
                continue
            env.spool.accept(raw, f"import:{label}")
            for outcome in drain(env):
                key = "created" if outcome.created else {"stored": "threaded"}.get(outcome.status, outcome.status)
                counts[key] += 1
    summary = {"messages": len(messages), "tickets_created": counts["created"],
               "messages_threaded": counts["threaded"], "duplicates": counts["duplicate"],
               "discarded": counts["discarded"], "quarantined": counts["quarantined"],
               "empty": counts["empty"]}
    if as_json:
        emit_json(summary)
    else:
        click.echo(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in summary.items()))
