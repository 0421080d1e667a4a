"""CPU milliseconds per message, stage by stage, and database queries per message:

    python bench/stage_cost.py [-n 1000] [--seed 1] [--repeat 3] [--tag TAG] [--profile bench,mix]

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


# Stages are timed on their own thread's CPU clock: the one-process import spools in a
# feeder thread meanwhile, whose CPU a process clock would add to whatever stage runs.
# The total is the process's CPU (every thread), "other" what no timer saw.
def timed(fn, name: str, spent: dict[str, float]):
    def wrapper(*args, **kwargs):
        started = time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.thread_time() - started
    return wrapper


class _TimedStage:
    def __init__(self, stage, spent: dict[str, float]) -> None:
        self.stage, self.name, self.spent = stage, stage.name, spent

    def __call__(self, msg, env) -> None:
        started = time.thread_time()
        try:
            self.stage(msg, env)
        finally:
            self.spent[self.name] = self.spent.get(self.name, 0.0) + time.thread_time() - started


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
    ap.add_argument("--profile", default="bench",
                    help="corpus profile (bench/corpus.py --profile); several, comma-separated, run interleaved")
    args = ap.parse_args()
    profiles = [p.strip() for p in args.profile.split(",") if p.strip()]
    by_profile: dict[str, list[dict]] = {p: [] for p in profiles}
    for i in range(args.repeat):
        for profile, runs in by_profile.items():
            load = os.getloadavg()[0]
            run = one_run(corpus_folder(args.n, args.seed, profile), h.WORK / "gw-stage-cost")
            run["load_1m"] = round(load, 2)
            runs.append(run)
            print(f"{profile} run {i + 1}: {run['cpu_ms_per_msg']:.2f} CPU ms/msg, "
                  f"{run['queries_per_msg']} queries/msg, load {load:.2f}", flush=True)
    results = {p: summarize(runs) for p, runs in by_profile.items()}
    for profile, best in results.items():
        print(f"{profile}: median of {args.repeat}: {best['cpu_ms_per_msg']:.2f} CPU ms/msg, "
              f"{best['queries_per_msg']} queries/msg")
    stages = list(next(iter(results.values()))["stages_ms"])
    print(f"{'stage':<14}" + "".join(f" {p + ' ms/msg':>14}" for p in results))
    for stage in stages:
        print(f"{stage:<14}" + "".join(f" {r['stages_ms'].get(stage, 0.0):>14.3f}" for r in results.values()))
    data = {"n": args.n, "seed": args.seed, "repeat": args.repeat}
    if profiles == ["bench"]:  # the layout of the earlier results
        data.update(median=results["bench"], runs=by_profile["bench"],
                    median_cpu_ms=statistics.median(r["cpu_ms_per_msg"] for r in by_profile["bench"]))
    else:
        data["profiles"] = {p: {"median": results[p], "runs": by_profile[p]} for p in profiles}
    out = h.write_result(f"stage_cost{'-' + args.tag if args.tag else ''}", data)
    print(f"written {out}  (mailgate from {Path(pipeline_file()).parent})")


def summarize(runs: list[dict]) -> dict:
    """The run with the median total; each stage's figure is the median over the runs."""
    best = dict(sorted(runs, key=lambda r: r["cpu_ms_per_msg"])[len(runs) // 2])
    best["stages_ms"] = {k: round(statistics.median(r["stages_ms"].get(k, 0.0) for r in runs), 3)
                         for k in best["stages_ms"]}
    return best


if __name__ == "__main__":
    main()
