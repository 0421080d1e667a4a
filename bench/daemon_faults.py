"""kill -9 fault run against `mailgate serve`: N messages over SMTP while the daemon is killed
at random moments and restarted. Prints the figures and writes bench/results/daemon_faults.json.

    ./.venv/bin/python bench/daemon_faults.py [--messages 500] [--seed N]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import Gateway, write_config  # noqa: E402
from tests.daemon.conftest import DaemonProc, daemon_config  # noqa: E402
from tests.daemon.dovecot import free_port, wait_port  # noqa: E402
from tests.daemon.faults import kill_loop  # noqa: E402
from tests.outbox.sink import Sink  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--kills", type=int, default=40, help="at most this many kill -9s")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        smtp, lmtp = free_port(), free_port()
        sink = Sink(free_port()).start()  # the outbox's relay: never the machine's own MTA
        config = write_config(Path(tmp), daemon_config(smtp, lmtp, relay_port=sink.port))
        d = DaemonProc(Gateway(Path(tmp), config), smtp, lmtp, sink=sink)
        d.start()
        wait_port(smtp)
        try:
            figures = kill_loop(d, count=args.messages, seed=args.seed, max_seconds=1800, max_kills=args.kills)
        finally:
            if d.running():
                d.stop()
            sink.stop()
    data = figures.as_dict()
    for key, value in data.items():
        print(f"{key:>13}: {value}")
    out = ROOT / "bench" / "results" / "daemon_faults.json"
    out.write_text(json.dumps(data, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
