"""One batch-ingest run in its own process (own peak RSS, CPU affinity set by the parent):

    python bench/batch_child.py CONFIG CORPUS_FOLDER WORKERS

Runs exactly what `mailgate import` runs (mailgate.batch.BatchImporter on the configured
store, durable spool and commits) and prints one JSON line: rate, latency, RSS. The clock
starts before the configuration is loaded, so start-up (talon's import) counts. CPU time
(this process and its workers) is reported too.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def main() -> None:
    config, folder, workers = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    paths = sorted((folder / "eml").glob("*.eml"))
    messages = [(p.name, p.read_bytes()) for p in paths]
    started = time.perf_counter()
    from mailgate.app import build_env
    from mailgate.batch import BatchImporter
    from mailgate.config import load_settings

    env = build_env(load_settings(config))
    handed: dict[str, float] = {}
    latencies: list[float] = []
    statuses: dict[str, int] = {}

    def feed():
        for label, raw in messages:
            handed[label] = time.perf_counter()
            yield label, raw

    def done(label: str, outcome: object) -> None:
        latencies.append(time.perf_counter() - handed[label])
        status = getattr(outcome, "status", "?")
        statuses[status] = statuses.get(status, 0) + 1

    BatchImporter(env, workers).run(feed(), "import", done)
    elapsed = time.perf_counter() - started
    latencies.sort()
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    own, kids = me.ru_maxrss, children.ru_maxrss
    # CPU seconds of this process and its workers: on a machine shared with other work the
    # wall-clock rate says as much about the neighbours as about mailgate
    cpu = me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime
    print(json.dumps({
        "messages": len(messages), "seconds": round(elapsed, 2), "rate": round(len(messages) / elapsed, 1),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 1),
        "peak_rss_mb": round((own + kids * (workers if workers > 1 else 0)) / 1024, 1),
        "cpu_s": round(cpu, 2), "cpu_ms_per_msg": round(cpu / len(messages) * 1000, 2),
        "workers": workers, "outcomes": statuses,
    }))


if __name__ == "__main__":
    main()
