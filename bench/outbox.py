"""Throughput of commands by email and of the outbox sender, against a real local SMTP relay.

Run from the repository root:  ./.venv/bin/python bench/outbox.py [N]

1. N new tickets through the pipeline (each writes an acknowledgement to the outbox);
2. N technician replies carrying commands (verified by Authentication-Results): each applies
   `status` and `priority`, and writes a receipt and an alert to the outbox;
3. the outbox sender drains all 3N mails to an aiosmtpd relay on a free local port.

Prints one table and writes bench/results/outbox.json. Numbers, never assertions.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "outbox.json"

from aiosmtpd.controller import Controller  # noqa: E402

from mailgate.app import build_env  # noqa: E402
from mailgate.config import load_settings  # noqa: E402
from mailgate.db.models import Outbox, Ticket  # noqa: E402
from mailgate.outbox_sender import OutboxSender  # noqa: E402
from mailgate.pipeline import drain  # noqa: E402

CONFIG = """
templates = "{templates}"
[gateway]
secret = "bench-secret"
ack_rate_limit = 1000000
[store]
database = "sqlite:///store/mailgate.db"
[relay]
host = "127.0.0.1"
port = {port}
[commands]
trusted_authserv_ids = ["mx.example.com"]
[[queue]]
name = "general"
address = "helpdesk@example.com"
[[person]]
address = "alice@example.com"
name = "Alice Admin"
role = "technician"
queues = ["general"]
"""


class Counter:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201
        self.count += 1
        return "250 OK"


def mail(i: int, sender: str, body: str, subject: str, extra: str = "") -> bytes:
    return (f"{extra}From: <{sender}>\r\nTo: helpdesk@example.com\r\nSubject: {subject}\r\n"
            f"Message-ID: <bench{i}.{sender}>\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\n\r\n{body}\r\n").encode()


def main(n: int) -> dict:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    counter = Counter()
    relay = Controller(counter, hostname="127.0.0.1", port=port)
    relay.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "mailgate.toml"
            config.write_text(CONFIG.format(templates=ROOT / "templates", port=port))
            env = build_env(load_settings(config))
            for i in range(n):
                env.spool.accept(mail(i, f"user{i}@customer.example", "The printer prints blank pages.",
                                      f"Printer problem {i}"), "bench", ())
            t0 = time.perf_counter()
            drain(env)
            t_new = time.perf_counter() - t0
            tickets = [t.id for t in Ticket.select(Ticket.id).order_by(Ticket.id)]
            ar = "Authentication-Results: mx.example.com; dmarc=pass header.from=example.com\r\n"
            for i, tid in enumerate(tickets):
                env.spool.accept(mail(i, "alice@example.com", "status: resolved\r\npriority: 2\r\n\r\nFixed.",
                                      f"Re: [Helpdesk #{tid}] Printer", ar), "bench", ())
            t0 = time.perf_counter()
            drain(env)
            t_cmd = time.perf_counter() - t0
            applied = Ticket.select().where(Ticket.status == "resolved", Ticket.priority == 2).count()
            queued = Outbox.select().count()
            sender = OutboxSender(env)
            t0 = time.perf_counter()
            sent = asyncio.run(sender.send_due())
            t_send = time.perf_counter() - t0
            sender.close()
    finally:
        relay.stop()
    return {
        "messages": n,
        "new_tickets_per_s": round(n / t_new, 1),
        "command_messages_per_s": round(n / t_cmd, 1),
        "commands_applied_tickets": applied,
        "outbox_rows": queued,
        "sent": sent,
        "relay_received": counter.count,
        "outbox_mails_per_s": round(sent / t_send, 1),
    }


if __name__ == "__main__":
    result = main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
    width = max(map(len, result))
    for key, value in result.items():
        print(f"{key.ljust(width)}  {value}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
