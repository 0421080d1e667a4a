"""`mailgate import`: mbox files, Maildirs and folders of .eml files."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from mailgate.cli.context import Context, pass_ctx
from mailgate.cli.output import emit_json

if TYPE_CHECKING:
    from mailgate.pipeline import Outcome


def _is_mbox(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(5) == b"From "


def iter_messages(path: Path) -> Iterator[tuple[str, bytes]]:
    """(label, raw bytes) for every message under path, in a stable order."""
    import mailbox  # here, not at the top: `mailgate deliver` imports this module too

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
@click.option("--workers", "-j", type=click.IntRange(min=1), default=None, metavar="N",
              help="Processes parsing and cleaning in parallel (default: one per core; 1 = no pool).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_ctx
def import_(ctx: Context, paths: tuple[Path, ...], workers: int | None, as_json: bool) -> None:
    """Import mbox files, Maildirs and folders of .eml files (one process per core for 200
    messages or more).

    Every message is spooled (fsync'd) first, parsed and cleaned in a pool of processes, and
    stored by one database writer; a message is done only once its transaction committed."""
    from mailgate.batch import POOL_MIN, BatchImporter
    from mailgate.pipeline import drain

    env = ctx.env
    messages = [m for p in paths for m in iter_messages(p)]
    counts: Counter[str] = Counter()
    non_empty = [(label, raw) for label, raw in messages if raw.strip()]
    counts["empty"] = len(messages) - len(non_empty)

    def tally(label: str, outcome: Outcome) -> None:
        key = "created" if outcome.created else {"stored": "threaded"}.get(outcome.status, outcome.status)
        counts[key] += 1
        bar.update(1)

    with click.progressbar(length=len(non_empty), label="Importing", file=click.get_text_stream("stderr"),
                           show_pos=True) as bar:
        if workers is None and len(non_empty) < POOL_MIN:
            workers = 1
        BatchImporter(env, workers).run(non_empty, "import", tally)
    if not env.spool.daemon_running():
        drain(env)  # entries left queued by an earlier, interrupted run
    summary = {"messages": len(messages), "tickets_created": counts["created"],
               "messages_threaded": counts["threaded"], "duplicates": counts["duplicate"],
               "discarded": counts["discarded"], "quarantined": counts["quarantined"],
               "empty": counts["empty"]}
    # outcomes other stages add (alert repeats "recorded", rule holds, ...) are counted too
    summary |= {k: v for k, v in counts.items() if k not in ("created", "threaded", "duplicate", "discarded",
                                                               "quarantined", "empty")}
    if as_json:
        emit_json(summary)
    else:
        click.echo(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in summary.items()))
