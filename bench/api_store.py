"""The store of bench/api.py: 100,000 tickets and 1,000,000 messages, written with bulk
inserts in large transactions (minutes, where ingesting them would take hours), kept under
bench/work/api-store/ and reused while its recorded shape matches.

Per ticket, on average: 10 messages (the request, then the desk's answers and the
requester's replies, alternating; 20% of the incoming ones with a sanitized HTML part;
bodies 300-1,500 characters, quoted history on replies, signatures), an attachment on 5%
of the messages, 2 nosy entries, 5 events (created, status, owner, a message's mail
fields), a tag on a third of them, an acknowledgement in the outbox. Statuses as an
older desk has them: 80% resolved or closed and since archived (by the daemon's archive
job, as its history says: the tickets are older than [lifecycle] archive_after_days), the
rest new, open or stalled; half owned by one of 8 agents. Requesters: 20,000 people, some
with many tickets.
"""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import time
from pathlib import Path

import harness as h
from scale import _bulk

SHAPE = {"version": 1, "tickets": 100_000, "messages_per_ticket": 10, "people": 20_000}
AGENTS = [f"agent{i}@example.com" for i in range(1, 9)]
CHUNK = 5_000  # tickets per transaction
WORDS = ("the printer VPN account password laptop update drive mapped colleague Monday Outlook invoice portal "
         "Wi-Fi meeting room monitor extension forwarded timesheet error submit restarted network team deadline "
         "customer please could you have a look again since yesterday morning works broken slow screen login "
         "certificate expired server backup restore mailbox quota calendar shared folder permission").split()
STATUSES = ["resolved"] * 45 + ["closed"] * 35 + ["new"] * 8 + ["open"] * 8 + ["stalled"] * 4
TOPICS = ["VPN disconnects", "Printer offline", "CRM password reset", "Laptop slow", "Shared drive missing",
          "New account", "Outlook password prompt", "Invoice PDF", "Wi-Fi room B", "Second monitor",
          "Phone forwarding", "Timesheet error 500"]

STAFF = "".join(f"""
[[person]]
address = "{a}"
name = "Agent {i}"
role = "technician"
queues = ["general"]
""" for i, a in enumerate(AGENTS, 1))


def config_text(smtp_port: int, http_port: int) -> str:
    """The benchmark gateway's configuration, with 8 agents and no API rate limit (the
    benchmark measures capacity; 600 requests a minute per token would cap it)."""
    text = h.CONFIG.format(root=h.ROOT, smtp_port=smtp_port).replace("[listen.http]\nport = 0",
                                                                    f"[listen.http]\nport = {http_port}")
    return text + STAFF + "\n[api]\nrate_limit = 0\n"


def _text(rng: random.Random, low: int, high: int) -> str:
    size = rng.randint(low, high)
    words: list[str] = []
    n = 0
    while n < size:
        w = rng.choice(WORDS)
        words.append(w)
        n += len(w) + 1
    lines = [" ".join(words[i:i + 12]) for i in range(0, len(words), 12)]
    return ".\n".join(lines) + "."


def _pools(rng: random.Random) -> dict[str, list[str]]:
    """Texts to draw from: generating a million distinct bodies would cost more than the
    inserts, and the sizes are what the reads pay for."""
    bodies = [_text(rng, 300, 1500) for _ in range(500)]
    quoted = ["\n".join("> " + line for line in _text(rng, 400, 2500).split("\n")) for _ in range(300)]
    html = [("<div dir=\"ltr\">" + "".join(f"<p>{p}</p>" for p in _text(rng, 1500, 5000).split("\n")) +
             "<blockquote>" + _text(rng, 300, 1200) + "</blockquote></div>") for _ in range(200)]
    return {"body": bodies, "quoted": quoted, "html": html}


def _ticket_rows(rng: random.Random, tid: int, people: int, base_person: int, agent_ids: list[int],
                 queue_id: int, pools: dict[str, list[str]], ids: dict[str, int]) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {k: [] for k in ("ticket", "message", "attachment", "event", "nosy", "outbox",
                                                   "ticket_tag")}
    person = base_person + int(people * rng.random() ** 2)  # a few people write many tickets
    addr = f"user{person - base_person}@customer.test"
    status = rng.choice(STATUSES)
    owner = rng.choice(agent_ids) if rng.random() < 0.5 else None
    created = 1_700_000_000 + tid * 600
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(created))
    later = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(created + 86_400))
    subject = f"{rng.choice(TOPICS)} ({tid})"
    root = f"{rng.getrandbits(64):016x}@customer.test"
    rows["ticket"].append({"id": tid, "queue_id": queue_id, "subject": subject, "status": status, "priority": 3,
                           "owner_id": owner, "requester_id": person, "root_message_id": root,
                           "created_at": when, "updated_at": later})
    for k in range(SHAPE["messages_per_ticket"]):
        inbound = k % 2 == 0
        mid = root if k == 0 else f"{rng.getrandbits(64):016x}@{'customer.test' if inbound else 'example.com'}"
        ids["message"] += 1
        rows["message"].append({
            "id": ids["message"], "ticket_id": tid, "message_id": mid, "content_hash": f"{rng.getrandbits(128):032x}",
            "direction": "in" if inbound else "out", "sender": addr if inbound else "helpdesk@example.com",
            "recipients": json.dumps(["helpdesk@example.com"] if inbound else [addr]), "date": when,
            "subject": subject if k == 0 else f"Re: [Helpdesk #{tid}] {subject}", "body": rng.choice(pools["body"]),
            "quoted": rng.choice(pools["quoted"]) if k else "", "signature": f"-- \nUser {person}\nCustomer Ltd"
            if inbound else "", "html": rng.choice(pools["html"]) if inbound and rng.random() < 0.2 else "",
            "raw_sha256": f"{rng.getrandbits(128):032x}", "source": "smtp" if inbound else "",
            "thread_signal": "new" if k == 0 else "message-id", "created_at": when})
        if rng.random() < 0.05:
            rows["attachment"].append({"message_id": ids["message"], "filename": "screenshot.png",
                                       "content_type": "image/png", "size": rng.randint(20_000, 200_000),
                                       "sha256": f"{rng.getrandbits(256):064x}"})
        if k == 0:
            rows["event"].append({"ticket_id": tid, "at": when, "actor": addr, "field": "created", "new": subject,
                                  "message_id": ids["message"], "source": "mail"})
    rows["event"] += [
        {"ticket_id": tid, "at": later, "actor": AGENTS[0], "field": "status", "old": "new", "new": status,
         "source": "web"},
        {"ticket_id": tid, "at": later, "actor": AGENTS[0], "field": "owner", "old": None,
         "new": AGENTS[agent_ids.index(owner)] if owner else AGENTS[0], "source": "web"},
        {"ticket_id": tid, "at": later, "actor": addr, "field": "priority", "old": "3", "new": "2",
         "message_id": ids["message"] - 1, "source": "mail"},
        {"ticket_id": tid, "at": later, "actor": addr, "field": "subject", "old": subject, "new": subject,
         "message_id": ids["message"] - 3, "source": "mail"}]
    if status in ("resolved", "closed"):  # what the archive job makes of them at the daemon's start
        rows["ticket"][0]["status"] = "archived"
        rows["event"].append({"ticket_id": tid, "at": later, "actor": "system", "field": "status", "old": status,
                              "new": "archived", "source": "schedule"})
    rows["nosy"] += [{"ticket_id": tid, "person_id": person}]
    if owner:
        rows["nosy"].append({"ticket_id": tid, "person_id": owner})
    if rng.random() < 0.33:
        rows["ticket_tag"].append({"ticket_id": tid, "name": rng.choice(["vpn", "hardware", "access", "billing"])})
    rows["outbox"].append({"ticket_id": tid, "kind": "ack", "sender": "helpdesk@example.com",
                           "recipients": json.dumps([addr]), "recipient": addr, "message_id": f"ack.{tid}@example.com",
                           "message": "stored acknowledgement", "state": "sent", "next_attempt_at": when,
                           "created_at": when})
    return rows


def build(folder: Path) -> float:
    """Write the store (schema through mailgate's own migrations first). Seconds taken."""
    started = time.perf_counter()
    gw_config = h.make_gateway(folder)
    gw_config.write_text(config_text(h.free_port(), h.free_port()))
    subprocess.run([str(h.MAILGATE), "--config", str(gw_config), "ticket", "list", "--json"], check=True,
                   capture_output=True, cwd=folder)
    for agent in AGENTS:  # the staff's person rows, as their first token would make them
        subprocess.run([str(h.MAILGATE), "--config", str(gw_config), "token", "create", agent, "--name", "bench"],
                       check=True, capture_output=True, cwd=folder)
    con = sqlite3.connect(str(folder / "store" / "mailgate.db"))
    con.execute("PRAGMA synchronous=off")  # a benchmark's history; the measured writes run as configured
    if con.execute("SELECT id FROM queue WHERE name = 'general'").fetchone() is None:
        con.execute("INSERT INTO queue (name, address) VALUES ('general', 'helpdesk@example.com')")
    queue_id = con.execute("SELECT id FROM queue WHERE name = 'general'").fetchone()[0]
    agent_ids = [con.execute("SELECT id FROM person WHERE address = ?", (a,)).fetchone()[0] for a in AGENTS]
    base_person = con.execute("SELECT COALESCE(MAX(id), 0) FROM person").fetchone()[0] + 1
    people = SHAPE["people"]
    _bulk(con, "person", [{"id": base_person + i, "address": f"user{i}@customer.test", "name": f"User {i}",
                           "role": "requester", "created_at": "2023-11-01 00:00:00"} for i in range(people)])
    rng = random.Random(19)
    pools = _pools(rng)
    ids = {"message": con.execute("SELECT COALESCE(MAX(id), 0) FROM message").fetchone()[0]}
    for start in range(1, SHAPE["tickets"] + 1, CHUNK):
        batch: dict[str, list[dict]] = {}
        for tid in range(start, min(SHAPE["tickets"] + 1, start + CHUNK)):
            for table, rows in _ticket_rows(rng, tid, people, base_person, agent_ids, queue_id, pools, ids).items():
                batch.setdefault(table, []).extend(rows)
        for table in ("ticket", "message", "attachment", "event", "nosy", "outbox", "ticket_tag"):
            _bulk(con, table, batch.get(table, []))
        con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    (folder / "shape.json").write_text(json.dumps(SHAPE))
    return time.perf_counter() - started


def ensure(folder: Path) -> float:
    """Build the store unless one of the same shape is there; seconds spent building."""
    shape = folder / "shape.json"
    if shape.exists() and json.loads(shape.read_text()) == SHAPE:
        return 0.0
    return build(folder)
