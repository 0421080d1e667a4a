"""Parser bombs through the MTA pipe (issue 17, item 13): wall time of one `mailgate deliver`
process (no daemon, so the message is processed inline: spool, parse, quarantine) for each
hostile fixture, median of --repeat runs, next to an ordinary small mail. Prints the figures
and writes bench/results/hostile_mime.json.

    ./.venv/bin/python bench/hostile_mime.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import FIXTURES, MAILGATE_BIN, write_config  # noqa: E402

CASES = {
    "plain": "new_plain.eml",
    "nested_500": "hostile/mime_nested_500.eml",
    "parts_2000": "hostile/mime_2000_parts.eml",
}


def run_once(raw: bytes) -> tuple[float, str]:
    with tempfile.TemporaryDirectory() as tmp:
        config = write_config(Path(tmp))
        started = time.monotonic()
        r = subprocess.run([str(MAILGATE_BIN), "--config", str(config), "deliver"], input=raw,
                           capture_output=True, timeout=120)
        elapsed = time.monotonic() - started
        assert r.returncode == 0, r.stderr
        held = subprocess.run([str(MAILGATE_BIN), "--config", str(config), "quarantine", "list", "--json"],
                              capture_output=True, timeout=60)
        rows = json.loads(held.stdout)
        return elapsed, rows[0]["error"] if rows else "stored"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    results = {}
    for name, fixture in CASES.items():
        raw = (FIXTURES / fixture).read_bytes()
        runs = [run_once(raw) for _ in range(args.repeat)]
        results[name] = {"bytes": len(raw), "median_s": round(statistics.median(t for t, _ in runs), 3),
                         "max_s": round(max(t for t, _ in runs), 3), "outcome": runs[0][1]}
        print(f"{name:>11}: {results[name]['median_s']:.3f} s median ({results[name]['max_s']:.3f} max) "
              f"for {len(raw)} bytes: {results[name]['outcome']}")
    out = ROOT / "bench" / "results" / "hostile_mime.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
