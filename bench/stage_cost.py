"""CPU milliseconds per message, stage by stage, and database queries per message:

    python bench/stage_cost.py [-n 1000] [--seed 1] [--repeat 3] [--tag TAG]

Runs the corpus through `mailgate.batch.BatchImporter` with one process (what `mailgate
import --workers 1` runs: durable spool, one writer, 64 messages per transaction) on a fresh
gateway, after start-up (a warm-up clean_text runs before the clock starts). Each stage, the
precheck and the spool write are timed with the process's CPU clock; "other" is the rest
(savepoints, commits, the batch's own bookkeeping). Median of `--repeat` runs by total;
writes bench/results/stage_cost[-TAG].json. CPU time, not wall time: on the shared machine
it barely moves with the neighbours.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness as h  # noqa: E402
from ingest import corpus_folder  # noqa: E402


def timed(fn, name: str, spent: dict[str, float]):
    def wrapper(*args, **kwargs):
        started = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.process_time() - started
    return wrapper


class _TimedStage:
    def __init__(self, stage, spent: dict[str, float]) -> None:
        self.stage, self.name, self.spent = stage, stage.name, spent

    def __call__(self, msg, env) -> None:
        started = time.process_time()
        try:
            self.stage(msg, env)
        finally:
            self.spent[self.name] = self.spent.get(self.name, 0.0) + time.process_time() - started


def one_run(folder: Path, gw: Path) -> dict:
    import peewee as pw

    import mailgate.batch as batch
    import mailgate.pipeline as pipeline
    import mailgate.spool as spool_mod
    from mailgate.app import build_env
    from mailgate.batch import BatchImporter
    from mailgate.config import load_settings

    messages = [(p.name, p.read_bytes()) for p in sorted((folder / "eml").glob("*.eml"))]
    config = h.make_gateway(gw)
    os.chdir(gw)  # the gateway's paths are relative to it
    env = build_env(load_settings(config))
    # start-up (imports, compiled patterns), not per-message cost
    from mailgate.clean import clean_text

    clean_text("Warm-up.\n\nOn Mon, 2 Jun 2025 at 10:00, A <a@example.com> wrote:\n> x\n\n-- \nA",
               "<div>Warm-up.</div><blockquote type=\"cite\">x</blockquote>")

    spent: dict[str, float] = {}
    queries = [0]
    saved = (pipeline.PURE_STAGES, pipeline.DB_STAGES, pipeline.precheck, spool_mod.Spool.accept_claimed,
             pw.Database.execute_sql)
    original_sql = pw.Database.execute_sql

    def counting(self, *args, **kwargs):
        queries[0] += 1
        return original_sql(self, *args, **kwargs)

    pipeline.PURE_STAGES = tuple(_TimedStage(s, spent) for s in saved[0])
    pipeline.DB_STAGES = tuple(_TimedStage(s, spent) for s in saved[1])
    pipeline.precheck = batch.precheck = timed(saved[2], "precheck", spent)
    spool_mod.Spool.accept_claimed = timed(saved[3], "spool write", spent)
    pw.Database.execute_sql = counting
    try:
        started = time.process_time()
        BatchImporter(env, 1).run(iter(messages), "import", lambda label, outcome: None)
        total = time.process_time() - started
    finally:
        (pipeline.PURE_STAGES, pipeline.DB_STAGES, pipeline.precheck, spool_mod.Spool.accept_claimed,
         pw.Database.execute_sql) = saved
        batch.precheck = saved[2]
    n = len(messages)
    per = {k: round(v / n * 1000, 3) for k, v in sorted(spent.items(), key=lambda kv: -kv[1])}
    per["other"] = round((total - sum(spent.values())) / n * 1000, 3)
    return {"messages": n, "cpu_ms_per_msg": round(total / n * 1000, 3), "stages_ms": per,
            "queries_per_msg": round(queries[0] / n, 2)}


def pipeline_file() -> str:
    import mailgate

    return mailgate.__file__


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--tag", default="")
    args = ap.parse_args()
    folder = corpus_folder(args.n, args.seed)
    runs = []
    for i in range(args.repeat):
        load = os.getloadavg()[0]
        run = one_run(folder, h.WORK / "gw-stage-cost")
        run["load_1m"] = round(load, 2)
        runs.append(run)
        print(f"run {i + 1}: {run['cpu_ms_per_msg']:.2f} CPU ms/msg, {run['queries_per_msg']} queries/msg, "
              f"load {load:.2f}", flush=True)
    best = sorted(runs, key=lambda r: r["cpu_ms_per_msg"])[len(runs) // 2]
    print(f"median of {len(runs)}: {best['cpu_ms_per_msg']:.2f} CPU ms/msg, {best['queries_per_msg']} queries/msg")
    print(f"{'stage':<14} {'CPU ms/msg':>10}")
    for stage, ms in best["stages_ms"].items():
        print(f"{stage:<14} {ms:>10.3f}")
    out = h.write_result(f"stage_cost{'-' + args.tag if args.tag else ''}",
                         {"n": args.n, "seed": args.seed, "repeat": args.repeat, "median": best, "runs": runs,
                          "median_cpu_ms": statistics.median(r["cpu_ms_per_msg"] for r in runs)})
    print(f"written {out}  (mailgate from {Path(pipeline_file()).parent})")


if __name__ == "__main__":
    main()
