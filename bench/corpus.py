"""A deterministic, realistic help-desk corpus with its ground truth.

    python bench/corpus.py -n 2000 --seed 1 --out bench/work/corpus-2000
    python bench/corpus.py -n 2000 --profile mix     # the realistic mix (bench/corpus_mix.py)

Mix (by message count): 40% new requests from ~200 users (some HTML, some with attachments
of 20-200 KB), 45% replies with quoted history and signatures, 15% Nagios-style alerts for
50 hosts (problem, repeats, recovery).

Replies carry what a real mail client has at hand: the requester replies to the gateway's
acknowledgement, whose Message-ID the generator cannot know (the gateway makes it up at
run time). So a reply says In-Reply-To: <the ack's id> and References: <the requester's
original> <the ack's id>, the way Thunderbird, Apple Mail and Outlook build References
from the parent's References plus its Message-ID. The unknown ack id is deterministic
but never stored anywhere, so the only working signal is the original's Message-ID (the
one the gateway stored), and for later replies the chain of the requester's own replies.

The ground truth (truth.json) lists for every message its kind and its `thread`: messages
with the same thread belong on one ticket; alerts share a thread when they are the same
problem episode of one host/service (problem, re-notifications and the recovery).
Same seed and n give byte-identical output.
"""

from __future__ import annotations

import argparse
import base64
import json
import mailbox
import random
import textwrap
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

GATEWAY = "helpdesk@example.com"
GATEWAY_NAME = "Helpdesk"
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

FIRST = ["Anna", "Ben", "Carla", "David", "Elif", "Frank", "Grace", "Hugo", "Ines", "Jonas",
         "Kim", "Lena", "Marco", "Nora", "Omar", "Paula", "Quentin", "Rosa", "Sven", "Tara"]
LAST = ["Meyer", "Schmidt", "Rossi", "Dubois", "Novak", "Larsen", "Okafor", "Tanaka", "Silva",
        "Kowalski"]
DOMAINS = ["acme-corp.test", "globex.test", "initech.test", "umbrella.test", "stark.test"]
TOPICS = [
    ("VPN disconnects every few minutes", "the VPN client drops the connection every few minutes"),
    ("Cannot print to the 3rd floor printer", "the printer on the 3rd floor shows offline"),
    ("Password reset for the CRM", "I am locked out of the CRM after the password change"),
    ("Laptop very slow since update", "my laptop became very slow after last night's update"),
    ("Shared drive not mapped", "the S: drive is no longer mapped when I log in"),
    ("New employee account", "we need an account for a new colleague starting on Monday"),
    ("Outlook keeps asking for password", "Outlook asks for my password again and again"),
    ("Invoice PDF cannot be opened", "the invoice PDF from the portal cannot be opened"),
    ("Wi-Fi in meeting room B", "the Wi-Fi in meeting room B does not hand out addresses"),
    ("Request: second monitor", "could I get a second monitor for my desk"),
    ("Phone extension forwarding", "calls to my extension are not forwarded to my mobile"),
    ("Error 500 in the timesheet app", "the timesheet app answers with error 500 on submit"),
]
FILLER = ("It started this morning and affects my whole team. I already restarted the machine "
          "and tried a different network, without success. Could you please have a look as "
          "soon as possible? We have a customer deadline this week.")
REPLY_LINES = [
    "Thanks, that worked for a while but the problem is back now.",
    "I tried what you suggested; here is the output you asked for.",
    "Any news on this? It is blocking our work.",
    "Thank you, it works again. You can close the ticket.",
    "Same issue on my colleague's machine, see the attached details.",
    "I will be in the office tomorrow if you want to look at it in person.",
]
HOST_ROLES = ["web", "db", "mail", "app", "cache"]
SERVICES = ["HTTP", "PING", "Disk /", "Load", "SSH", "Swap", "MySQL", "SMTP", "NTP", "Memory"]


@dataclass
class Corpus:
    messages: list[bytes] = field(default_factory=list)
    truth: list[dict] = field(default_factory=list)


@dataclass
class _Event:
    at: datetime
    order: int
    raw: bytes
    truth: dict


def _users(rng: random.Random) -> list[tuple[str, str]]:
    users = []
    for i in range(200):
        first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
        domain = DOMAINS[i % len(DOMAINS)]
        users.append((f"{first} {last}", f"{first.lower()}.{last.lower()}{i}@{domain}"))
    rng.shuffle(users)
    return users


def _msgid(rng: random.Random, domain: str) -> str:
    return f"<{rng.getrandbits(64):016x}.{rng.getrandbits(32):08x}@{domain}>"


def _headers(pairs: list[tuple[str, str]]) -> bytes:
    return "".join(f"{k}: {v}\r\n" for k, v in pairs).encode()


def _signature(name: str, domain: str) -> str:
    company = domain.split(".")[0].replace("-", " ").title()
    return f"-- \r\n{name}\r\n{company} | Phone +49 30 1234 {len(name):04d}\r\n"


def _plain_body(text: str) -> str:
    return "\r\n".join(textwrap.wrap(text, 72)) + "\r\n"


def _new_request(rng: random.Random, user: tuple[str, str], at: datetime) -> tuple[bytes, str, str]:
    name, addr = user
    domain = addr.split("@")[1]
    subject, line = rng.choice(TOPICS)
    mid = _msgid(rng, domain)
    text = f"Hello,\r\n\r\n{_plain_body(line.capitalize() + '. ' + FILLER)}\r\nBest regards,\r\n{name}\r\n\r\n"
    text += _signature(name, domain)
    head = [("From", f"{name} <{addr}>"), ("To", f"{GATEWAY_NAME} <{GATEWAY}>"), ("Subject", subject),
            ("Date", format_datetime(at)), ("Message-ID", mid), ("MIME-Version", "1.0")]
    html = rng.random() < 0.3
    attach = rng.random() < 0.12
    if not html and not attach:
        head.append(("Content-Type", "text/plain; charset=utf-8"))
        head.append(("Content-Transfer-Encoding", "8bit"))
        return _headers(head) + b"\r\n" + text.encode(), mid, subject
    boundary = f"=_b{rng.getrandbits(48):012x}"
    parts: list[bytes] = []
    if html:
        inner = f"=_a{rng.getrandbits(48):012x}"
        html_text = ("<html><body><p>Hello,</p><p>" + line.capitalize() + ". " + FILLER +
                     f"</p><p>Best regards,<br>{name}</p></body></html>\r\n")
        alt = (f"Content-Type: multipart/alternative; boundary=\"{inner}\"\r\n\r\n"
               f"--{inner}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}"
               f"--{inner}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html_text}--{inner}--\r\n")
        parts.append(alt.encode())
    else:
        parts.append(b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + text.encode())
    if attach:
        size = rng.randint(20_000, 200_000)
        payload = base64.encodebytes(rng.randbytes(size)).replace(b"\n", b"\r\n")
        fname = rng.choice(["screenshot.png", "error-log.zip", "report.pdf"])
        ctype = {"png": "image/png", "zip": "application/zip", "pdf": "application/pdf"}[fname.rsplit(".")[1]]
        parts.append(f"Content-Type: {ctype}; name=\"{fname}\"\r\nContent-Transfer-Encoding: base64\r\n"
                     f"Content-Disposition: attachment; filename=\"{fname}\"\r\n\r\n".encode() + payload)
    head.append(("Content-Type", f"multipart/mixed; boundary=\"{boundary}\""))
    body = b"".join(f"--{boundary}\r\n".encode() + p for p in parts) + f"--{boundary}--\r\n".encode()
    if not attach:  # HTML only: the alternative part is the whole body
        head[-1] = ("Content-Type", f"multipart/alternative; boundary=\"{inner}\"")
        body = parts[0].split(b"\r\n\r\n", 1)[1]
    return _headers(head) + b"\r\n" + body, mid, subject


def _quote(text: str) -> str:
    return "".join(f"> {line}\r\n" if line else ">\r\n" for line in text.split("\r\n"))


def _reply(rng: random.Random, user: tuple[str, str], at: datetime, subject: str,
           references: list[str], previous_text: str) -> tuple[bytes, str]:
    name, addr = user
    domain = addr.split("@")[1]
    mid = _msgid(rng, domain)
    # the gateway's acknowledgement/update this reply answers: its id is unknowable here
    ack = f"<ack.{rng.getrandbits(64):016x}@example.com>"
    refs = references + [ack]
    style = rng.randrange(3)
    said = rng.choice(REPLY_LINES)
    if style == 0:  # Thunderbird/Apple Mail: attribution line and > quotes
        quoted = f"On {format_datetime(at - timedelta(hours=2))}, {GATEWAY_NAME} wrote:\r\n{_quote(previous_text)}"
        text = f"{said}\r\n\r\n{name}\r\n{_signature(name, domain)}\r\n{quoted}"
    elif style == 1:  # Outlook: the quoted message after a separator, no > marks
        quoted = (f"-----Original Message-----\r\nFrom: {GATEWAY_NAME} <{GATEWAY}>\r\n"
                  f"Sent: {format_datetime(at - timedelta(hours=3))}\r\nSubject: {subject}\r\n\r\n"
                  f"{previous_text}")
        text = f"{said}\r\n\r\nKind regards\r\n{name}\r\n\r\n{quoted}"
    else:  # Gmail style, signature below the text
        quoted = f"On {format_datetime(at - timedelta(hours=1))} {GATEWAY_NAME} <{GATEWAY}> wrote:\r\n{_quote(previous_text)}"
        text = f"{said}\r\n\r\n{_signature(name, domain)}\r\n{quoted}"
    head = [("From", f"{name} <{addr}>"), ("To", f"{GATEWAY_NAME} <{GATEWAY}>"),
            ("Subject", f"Re: {subject}"), ("Date", format_datetime(at)), ("Message-ID", mid),
            ("In-Reply-To", ack), ("References", " ".join(refs)), ("MIME-Version", "1.0"),
            ("Content-Type", "text/plain; charset=utf-8"), ("Content-Transfer-Encoding", "8bit")]
    return _headers(head) + b"\r\n" + text.encode(), mid


def _alert(rng: random.Random, at: datetime, host: str, address: str, service: str, kind: str,
           state: str) -> tuple[bytes, str]:
    mid = _msgid(rng, "monitor.example.net")
    when = at.strftime("%a %b %d %H:%M:%S UTC %Y")
    if service == "HOST":
        subject = f"** {kind} Host Alert: {host} is {state} **"
        info = f"PING {state} - Packet loss = {'100' if state == 'DOWN' else '0'}%"
        body = (f"***** Nagios *****\r\n\r\nNotification Type: {kind}\r\nHost: {host}\r\n"
                f"State: {state}\r\nAddress: {address}\r\nInfo: {info}\r\n\r\nDate/Time: {when}\r\n")
    else:
        subject = f"** {kind} Service Alert: {host}/{service} is {state} **"
        info = f"{service.upper()} {state} - check returned {rng.randint(1, 999)}"
        body = (f"***** Nagios *****\r\n\r\nNotification Type: {kind}\r\n\r\nService: {service}\r\n"
                f"Host: {host}\r\nAddress: {address}\r\nState: {state}\r\n\r\nDate/Time: {when}\r\n\r\n"
                f"Additional Info:\r\n\r\n{info}\r\n")
    head = [("From", "Nagios <nagios@monitor.example.net>"), ("To", GATEWAY), ("Subject", subject),
            ("Date", format_datetime(at)), ("Message-ID", mid), ("MIME-Version", "1.0"),
            ("Content-Type", "text/plain; charset=us-ascii")]
    return _headers(head) + b"\r\n" + body.encode(), mid


def _request_events(rng: random.Random, n_new: int, n_reply: int, span: float) -> list[_Event]:
    users = _users(rng)
    weights = [1 / (i + 1) ** 0.7 for i in range(len(users))]
    events: list[_Event] = []
    threads: list[dict] = []
    for i in range(n_new):
        at = START + timedelta(seconds=rng.uniform(0, span * 0.8))
        user = rng.choices(users, weights)[0]  # a few users write a lot, most write once or twice
        raw, mid, subject = _new_request(rng, user, at)
        key = f"req-{i}"
        events.append(_Event(at, len(events), raw, {"message_id": mid[1:-1], "kind": "new", "thread": key}))
        threads.append({"key": key, "user": user, "at": at, "subject": subject, "refs": [mid],
                        "last": "We received your request and will get back to you shortly."})
    for _ in range(n_reply):
        t = rng.choice(threads)
        t["at"] = t["at"] + timedelta(minutes=rng.uniform(5, 600))
        raw, mid = _reply(rng, t["user"], t["at"], t["subject"], list(t["refs"]), t["last"])
        # the next reply's client sees this reply (and the gateway's copy) in its References
        t["refs"] = t["refs"] + [mid]
        events.append(_Event(t["at"], len(events), raw,
                             {"message_id": mid[1:-1], "kind": "reply", "thread": t["key"]}))
    return events


def _alert_events(rng: random.Random, n_alerts: int, span: float) -> list[_Event]:
    hosts = [(f"{HOST_ROLES[i % len(HOST_ROLES)]}{i // len(HOST_ROLES) + 1:02d}", f"10.0.{i // 250}.{i % 250 + 1}")
             for i in range(50)]
    events: list[_Event] = []
    free_at: dict[tuple[str, str], datetime] = {}  # a recovered problem may return after this
    still_open: dict[tuple[str, str], tuple[str, datetime]] = {}  # episode without recovery yet
    episode = 0
    made = 0
    while made < n_alerts:
        host, address = rng.choice(hosts)
        service = rng.choice(SERVICES + ["HOST"])
        fp = (host, service)
        bad = "DOWN" if service == "HOST" else rng.choice(["CRITICAL", "WARNING"])
        good = "UP" if service == "HOST" else "OK"
        if fp in still_open:  # the unresolved problem keeps alerting: same episode
            key, at = still_open.pop(fp)
            repeats = rng.randint(1, 3)
        else:
            key = f"alert-{host}/{service}-{episode}"
            at = max(START + timedelta(seconds=rng.uniform(0, span * 0.9)), free_at.get(fp, START))
            repeats = rng.randint(0, 4)  # a problem, then 0-4 re-notifications
        recovers = rng.random() < 0.8
        count = min(1 + repeats + (1 if recovers else 0), n_alerts - made)
        for k in range(count):
            is_recovery = recovers and k == count - 1 and count > 1
            kind, state = ("RECOVERY", good) if is_recovery else ("PROBLEM", bad)
            raw, mid = _alert(rng, at, host, address, service, kind, state)
            events.append(_Event(at, episode * 100 + k, raw,
                                 {"message_id": mid[1:-1], "kind": "alert", "thread": key,
                                  "alert": kind.lower(), "fingerprint": f"{host}/{service}"}))
            at += timedelta(minutes=rng.uniform(10, 60))
        if recovers and count > 1:
            # a new episode of the same problem comes a day later: past any flap window
            free_at[fp] = at + timedelta(days=1)
        else:
            still_open[fp] = (key, at)
        episode += 1
        made += count
    return events


def generate(n: int, seed: int = 1) -> Corpus:
    """n messages, interleaved in time order, with the ground truth in the same order."""
    rng = random.Random(seed)
    n_alerts = round(n * 0.15)
    n_new = max(1, round(n * 0.40))
    n_reply = n - n_alerts - n_new
    span = max(3600.0, n * 120.0)  # about one message every two minutes
    events = _request_events(rng, n_new, n_reply, span) + _alert_events(rng, n_alerts, span)
    events.sort(key=lambda e: (e.at, e.order))
    return Corpus([e.raw for e in events], [e.truth for e in events])


def write(corpus: Corpus, out: Path) -> None:
    """out/eml/00001.eml..., out/corpus.mbox and out/truth.json."""
    eml = out / "eml"
    eml.mkdir(parents=True, exist_ok=True)
    for old in eml.glob("*.eml"):
        old.unlink()
    for i, raw in enumerate(corpus.messages, 1):
        (eml / f"{i:06d}.eml").write_bytes(raw)
    mbox_path = out / "corpus.mbox"
    mbox_path.unlink(missing_ok=True)
    box = mailbox.mbox(str(mbox_path))
    box.lock()
    try:
        for raw in corpus.messages:
            box.add(raw.replace(b"\r\n", b"\n"))
        box.flush()
    finally:
        box.unlock()
        box.close()
    (out / "truth.json").write_text(json.dumps(corpus.truth, indent=0))


def score(truth: list[dict], ticket_of: dict[str, int | None]) -> dict:
    """Threading accuracy. A thread's ticket is the ticket of its first message; every later
    message (reply, alert repeat, recovery) must land there, and every thread's first
    message must open a ticket no other thread uses."""
    first_ticket: dict[str, int | None] = {}
    follow_ok = follow_total = 0
    wrong: list[dict] = []
    by_kind = {"reply": [0, 0], "alert": [0, 0]}
    for t in truth:
        ticket = ticket_of.get(t["message_id"])
        if t["thread"] not in first_ticket:
            first_ticket[t["thread"]] = ticket
            continue
        follow_total += 1
        by_kind[t["kind"]][1] += 1
        if ticket is not None and ticket == first_ticket[t["thread"]]:
            follow_ok += 1
            by_kind[t["kind"]][0] += 1
        elif len(wrong) < 10:
            wrong.append({**t, "ticket": ticket, "expected": first_ticket[t["thread"]]})
    owners: dict[int, list[str]] = {}
    for thread, ticket in first_ticket.items():
        if ticket is not None:
            owners.setdefault(ticket, []).append(thread)
    merged = sum(len(v) - 1 for v in owners.values() if len(v) > 1)
    missing = sum(1 for v in first_ticket.values() if v is None)
    return {
        "threads": len(first_ticket),
        "follow_ups": follow_total,
        "follow_ups_on_right_ticket": follow_ok,
        "accuracy": round(follow_ok / follow_total, 4) if follow_total else 1.0,
        "reply_accuracy": round(by_kind["reply"][0] / by_kind["reply"][1], 4) if by_kind["reply"][1] else 1.0,
        "alert_repeat_accuracy": round(by_kind["alert"][0] / by_kind["alert"][1], 4) if by_kind["alert"][1] else 1.0,
        "threads_merged_wrongly": merged,
        "threads_without_ticket": missing,
        "examples_wrong": wrong,
    }


PROFILES = ("bench", "mix")


def generate_profile(profile: str, n: int, seed: int = 1) -> Corpus:
    """"bench": this module's corpus (the figures of docs/performance.md); "mix": the
    realistic mix of issue 19 (bench/corpus_mix.py)."""
    if profile == "bench":
        return generate(n, seed)
    if profile == "mix":
        import corpus_mix

        return corpus_mix.generate(n, seed)
    raise ValueError(f"unknown corpus profile {profile!r}: expected one of {', '.join(PROFILES)}")


def folder_name(profile: str, n: int, seed: int) -> str:
    return f"corpus-{n}-s{seed}" if profile == "bench" else f"corpus-{profile}-{n}-s{seed}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=2000, help="number of messages (default 2000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--profile", choices=PROFILES, default="bench", help="which mix (default bench)")
    ap.add_argument("--out", type=Path, default=None, help="folder (default bench/work/corpus[-PROFILE]-N-sSEED)")
    args = ap.parse_args()
    out = args.out or Path(__file__).parent / "work" / folder_name(args.profile, args.n, args.seed)
    corpus = generate_profile(args.profile, args.n, args.seed)
    write(corpus, out)
    kinds: dict[str, int] = {}
    for t in corpus.truth:
        kinds[t["kind"]] = kinds.get(t["kind"], 0) + 1
    size = sum(len(m) for m in corpus.messages)
    print(f"{len(corpus.messages)} messages ({kinds}), {size / 1e6:.1f} MB -> {out}")


if __name__ == "__main__":
    main()
