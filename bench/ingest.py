"""Ingest benchmark: the same corpus through every way into mailgate (and Roundup).

    python bench/ingest.py -n 2000                       # batch, batch on one core, pipe, smtp
    python bench/ingest.py -n 2000 --peer roundup        # the same run next to roundup-mailgw
    python bench/ingest.py -n 500 --modes batch --repeat 1
    python bench/ingest.py -n 2000 --profile bench,mix --modes batch,batch-1cpu,drain --peer roundup

Corpus profiles (bench/corpus.py --profile): "bench", the corpus the earlier figures used, and
"mix", the realistic mix of issue 19 (bench/corpus_mix.py: more HTML, Outlook markup, long
quotes, tagged subjects). The runs are interleaved: repeat i runs every (profile, mode),
Roundup's included, before repeat i + 1, so the medians of all rows come from the same
minutes of this shared machine.

Modes (each on a fresh gateway, median of --repeat runs by messages/s):
  batch       mailgate.batch (what `mailgate import` runs): spool, process pool, one writer
  batch-1cpu  the same pinned to one CPU, no pool
  pipe        `mailgate deliver` one process per message while a daemon runs (it only
              spools; the daemon processes); first --pipe-n messages
  pipe-inline `mailgate deliver` with no daemon: processes inline; first --inline-n messages
  smtp        SMTP into `mailgate serve` with 8 concurrent clients; latency = time to 250
  drain       a backlog of N queued messages appears at once in a running daemon's spool;
              the daemon's worker alone (group commits, a preparing worker process)
  drain-1cpu  the same with `[daemon] workers = 0` (everything in the daemon process),
              pinned to one CPU with taskset

Rates count until the last message is durably processed (the daemon's commit), except
`accepted/s`, which counts until the last 250 / exit 0. Threading accuracy compares the
stored tickets with the corpus ground truth (bench/corpus.py). Results go to
bench/results/ingest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus as corpus_mod  # noqa: E402
import daemon_runs  # noqa: E402
import harness as h  # noqa: E402

MODES = ("batch", "batch-1cpu", "pipe", "pipe-inline", "smtp", "drain", "drain-1cpu")


def corpus_folder(n: int, seed: int, profile: str = "bench") -> Path:
    folder = h.WORK / corpus_mod.folder_name(profile, n, seed)
    if not (folder / "truth.json").exists():
        corpus_mod.write(corpus_mod.generate_profile(profile, n, seed), folder)
    return folder


def load(folder: Path) -> tuple[list[bytes], list[dict]]:
    truth = json.loads((folder / "truth.json").read_text())
    messages = [p.read_bytes() for p in sorted((folder / "eml").glob("*.eml"))]
    return messages, truth


def run_batch(folder: Path, workers: int, one_cpu: bool) -> dict:
    """In a child process (own RSS, own CPU affinity): see bench/batch_child.py."""
    gw = h.WORK / "gw-batch"
    config = h.make_gateway(gw)
    cmd = [sys.executable, str(h.BENCH / "batch_child.py"), str(config), str(folder), str(workers)]
    if one_cpu:
        cmd = ["taskset", "-c", "0", *cmd]
    result = h.run_json(cmd, cwd=gw)
    result["truth_db"] = str(gw / "store" / "mailgate.db")
    return result


def compile_bytecode() -> None:
    """An installed mailgate has its bytecode compiled (pip compiles at install time). This
    tree is an editable install and the development environment sets PYTHONDONTWRITEBYTECODE,
    so every `mailgate deliver` process would compile each module edited since the last
    compile from source (~1 ms a module). Compile once, as an install would, and say so."""
    import compileall

    stale = os.environ.get("PYTHONDONTWRITEBYTECODE")
    compileall.compile_dir(str(h.ROOT / "mailgate"), quiet=1)
    print(f"bytecode: mailgate/ compiled before the pipe runs (PYTHONDONTWRITEBYTECODE={stale or 'unset'})",
          file=sys.stderr)


def score(result: dict, truth: list[dict]) -> dict:
    subset = truth[: result["messages"]]
    ticket_of = h.ticket_of(Path(result.pop("truth_db")))
    acc = corpus_mod.score(subset, ticket_of)
    if subset and "ticket_number" in subset[0]:
        # the mix's subjects carry the ticket numbers the generator predicted: check them
        firsts = {t["thread"]: t for t in reversed(subset)}.values()
        acc["subject_tags_right"] = sum(ticket_of.get(t["message_id"]) == t["ticket_number"] for t in firsts)
    result["accuracy"] = acc["accuracy"]
    result["reply_accuracy"] = acc["reply_accuracy"]
    result["alert_repeat_accuracy"] = acc["alert_repeat_accuracy"]
    result["threading"] = acc
    return result


def one_run(mode: str, folder: Path, messages: list[bytes], truth: list[dict], args: argparse.Namespace) -> dict:
    if mode == "batch":
        return run_batch(folder, args.workers, one_cpu=False)
    if mode == "batch-1cpu":
        return run_batch(folder, 1, one_cpu=True)
    if mode == "pipe":
        return daemon_runs.run_pipe(messages[: args.pipe_n], True, truth, args.pipe_concurrency)
    if mode == "pipe-inline":
        return daemon_runs.run_pipe(messages[: args.inline_n], False, truth, 1)
    if mode == "smtp":
        return daemon_runs.run_smtp(messages, clients=8, truth=truth)
    if mode == "drain":
        return daemon_runs.run_drain(messages, truth)
    if mode == "drain-1cpu":
        return daemon_runs.run_drain(messages, truth, workers=0, cpus="0")
    raise ValueError(mode)


def main() -> None:
    ap = argparse.ArgumentParser(description="mailgate ingest benchmark")
    ap.add_argument("-n", type=int, default=2000, help="corpus size (default 2000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--profile", default="bench", help="comma-separated corpus profiles: bench, mix")
    ap.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, from {','.join(MODES)}")
    ap.add_argument("--repeat", type=int, default=3, help="runs per mode; the median is reported")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="pool size for batch")
    ap.add_argument("--pipe-n", type=int, default=300, help="messages for the pipe mode")
    ap.add_argument("--pipe-concurrency", type=int, default=1,
                    help="pipe deliveries at once, for mailgate and Roundup alike (an MTA runs several)")
    ap.add_argument("--inline-n", type=int, default=20, help="messages for pipe-inline (slow)")
    ap.add_argument("--tag", default="", help="results go to bench/results/ingest[-TAG].json")
    ap.add_argument("--peer", choices=["roundup"], default=None, help="also run Roundup's mail gateway")
    ap.add_argument("--roundup-n", type=int, default=None, help="messages for Roundup's mbox mode (default n)")
    args = ap.parse_args()
    profiles = [p.strip() for p in args.profile.split(",") if p.strip()]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if any(m.startswith("pipe") for m in modes):
        compile_bytecode()
    if args.peer == "roundup":
        import roundup_peer

        roundup_peer.ensure_installed()
        # Roundup's pipe mode is the peer of mailgate's pipe modes: run it only with them
        modes += [m for m in roundup_peer.MODES if m != "roundup pipe" or any(x.startswith("pipe") for x in modes)]
    corpora = {p: (corpus_folder(args.n, args.seed, p), *load(corpus_folder(args.n, args.seed, p)))
               for p in profiles}
    runs: dict[tuple[str, str], list[dict]] = {(p, m): [] for p in profiles for m in modes}
    for i in range(args.repeat):
        for (profile, mode), done in runs.items():
            if mode == "pipe-inline" and done:
                continue
            folder, messages, truth = corpora[profile]
            load_before = os.getloadavg()[0]  # other work on the machine shows in every wall-clock figure
            if mode.startswith("roundup"):
                result = roundup_peer.one_run(mode, folder, messages, truth, args)
            else:
                result = score(one_run(mode, folder, messages, truth, args), truth)
            result["load_1m"] = round(load_before, 1)
            print(f"  {profile} {mode} run {i + 1}: {result['rate']:.1f} msg/s, accuracy {result['accuracy']:.2%}",
                  file=sys.stderr)
            done.append(result)
    rows = [{"profile": p, "mode": m, **h.median_run(r, "rate"), "runs": [x["rate"] for x in r]}
            for (p, m), r in runs.items()]
    if args.peer == "roundup":
        roundup_peer.add_ratios(rows)
    columns = [("profile", "corpus"), ("mode", "mode"), ("messages", "n"), ("rate", "msg/s"), ("accepted_rate", "accepted/s"),
               ("p50_ms", "p50 ms"), ("p99_ms", "p99 ms"), ("cpu_ms_per_msg", "CPU ms/msg"),
               ("deliver_cpu_ms_p50", "CPU ms/deliver"),
               ("peak_rss_mb", "peak RSS MB"), ("workers_rss_mb", "of which workers"), ("peak_pss_mb", "PSS MB"),
               ("load_1m", "load"),
               ("accuracy", "threading"), ("ratio", "vs Roundup")]
    for row in rows:
        row["accuracy"] = f"{row['accuracy']:.1%}" if isinstance(row.get("accuracy"), float) else row.get("accuracy", "")
    print(f"corpus: {args.n} messages (seed {args.seed}, {args.profile}); median of {args.repeat} runs by msg/s; "
          f"pipe modes: first {args.pipe_n} messages, {args.pipe_concurrency} at a time")
    print(h.table(rows, columns))
    path = h.write_result(f"ingest-{args.tag}" if args.tag else "ingest",
                          {"n": args.n, "seed": args.seed, "profiles": profiles, "repeat": args.repeat, "argv": sys.argv[1:], "rows": rows})
    print(f"written {path.relative_to(h.ROOT)}")


if __name__ == "__main__":
    main()
