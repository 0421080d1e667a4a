"""The realistic mix of issue 19: the kinds of mail of bench/corpus.py, in the proportions
and sizes a help desk sees ("mix" profile of `bench/corpus.py --profile mix`).

- 40% new requests from ~200 people (each gets an acknowledgement): 35% multipart/alternative
  with an HTML part as Outlook and Gmail write it (style blocks, `MsoNormal` paragraphs,
  `<o:p>`), 10% with one 20-200 KB attachment (PDF, PNG or DOCX-like bytes, base64).
- 45% replies, In-Reply-To the requester's previous message of the thread and References the
  whole chain, subject `Re: [Helpdesk #N] ...` with the ticket number the gateway gave, the
  parent (the acknowledgement with its signed link, or the previous reply with its own
  quotes) quoted after an "On ... wrote:" line, or under an Outlook header block; a `-- `
  signature; 40% of them multipart/alternative with the quote in a `<blockquote>`.
- 15% Nagios alerts for 50 hosts (bench/corpus.py's generator).
- About 10 KB a message on average (20 MB for 2,000).

The ticket numbers in the subjects are the gateway's: tickets are numbered in the order
their first message is committed, which is the corpus order (a new request or the first
alert of an episode opens one). `truth.json` carries each thread's expected number
(`ticket_number`) so the benchmark can check the prediction against the store.
"""

from __future__ import annotations

import base64
import hashlib
import random
from datetime import datetime, timedelta
from email.utils import format_datetime

from corpus import (
    FILLER,
    GATEWAY,
    GATEWAY_NAME,
    REPLY_LINES,
    START,
    TOPICS,
    Corpus,
    _alert_events,
    _Event,
    _headers,
    _msgid,
    _plain_body,
    _signature,
    _users,
)

MORE = [
    "The error message says that the connection to the server was reset by the peer.",
    "This happens on both the docking station and the wireless network at home.",
    "My manager asked me to escalate this since the quarterly report depends on it.",
    "I attached what I could find; the log file is from this morning's attempt.",
    "Two of my colleagues in the same department see exactly the same behaviour.",
    "We did not change anything on our side, as far as I know, since last Friday.",
]
ATTACHMENTS = [("report.pdf", "application/pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"),
               ("screenshot.png", "image/png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
               ("details.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                b"PK\x03\x04\x14\x00\x06\x00\x08\x00")]
# what Word adds to every Outlook mail: font faces, list definitions, a signature table
FONTS = "".join(f"@font-face {{font-family:\"{f}\"; panose-1:{p};}}\r\n" for f, p in [
    ("Segoe UI", "2 11 5 2 4 2 4 2 2 3"), ("Aptos", "2 11 0 4 2 2 2 2 2 4"), ("Tahoma", "2 11 6 4 3 5 4 4 2 4"),
    ("Consolas", "2 11 6 9 2 2 4 3 2 4"), ("Calibri Light", "2 15 3 2 2 2 4 3 2 4")])
LISTS = "".join(f"@list l{i}:level{k} {{mso-level-number-format:bullet; mso-level-text:\\F0B7; mso-level-tab-stop:"
                f"{36 * k}.0pt; mso-level-number-position:left; text-indent:-18.0pt; font-family:Symbol;}}\r\n"
                for i in range(2) for k in range(1, 10))
SIGNATURE_TABLE = ("<table class=\"MsoNormalTable\" border=\"0\" cellspacing=\"0\" cellpadding=\"0\" "
                   "style=\"border-collapse:collapse\"><tr><td width=\"420\" valign=\"top\" style=\"width:315.0pt;"
                   "padding:0cm 5.4pt 0cm 5.4pt\"><p class=\"MsoNormal\"><b><span style=\"font-size:10.0pt;"
                   "font-family:&quot;Segoe UI&quot;,sans-serif;color:#1F3864\">{name}<o:p></o:p></span></b></p>"
                   "<p class=\"MsoNormal\"><span style=\"font-size:9.0pt;font-family:&quot;Segoe UI&quot;,sans-serif;"
                   "color:gray\">{company} | Phone +49 30 1234 5678 | <a href=\"https://{domain}/\">{domain}</a>"
                   "<o:p></o:p></span></p></td></tr></table>\r\n")
STYLE = ("<style><!--\r\n/* Font Definitions */\r\n" + FONTS + "@font-face {font-family:\"Cambria Math\"; panose-1:2 4 5 3 5 4 6 3 2 4;}\r\n"
         "@font-face {font-family:Calibri; panose-1:2 15 5 2 2 2 4 3 2 4;}\r\n"
         "p.MsoNormal, li.MsoNormal, div.MsoNormal {margin:0cm; font-size:11.0pt; "
         "font-family:\"Calibri\",sans-serif;}\r\na:link, span.MsoHyperlink {mso-style-priority:99; "
         "color:#0563C1; text-decoration:underline;}\r\nspan.EmailStyle17 {mso-style-type:personal-compose; "
         "font-family:\"Calibri\",sans-serif; color:windowtext;}\r\n.MsoChpDefault {mso-style-type:export-only; "
         "font-family:\"Calibri\",sans-serif;}\r\n@page WordSection1 {size:612.0pt 792.0pt; "
         "margin:70.85pt 70.85pt 2.0cm 70.85pt;}\r\ndiv.WordSection1 {page:WordSection1;}\r\n" + LISTS +
         "ol {margin-bottom:0cm;}\r\nul {margin-bottom:0cm;}\r\n--></style>\r\n")
TICKET = "\x00TICKET:{}\x00"  # replaced by the ticket's number once the corpus order is known


def _paragraphs(rng: random.Random, first: str) -> list[str]:
    return [first, FILLER, *rng.sample(MORE, rng.randint(1, 4))]


def _html(paragraphs: list[str], name: str, domain: str, outlook: bool) -> str:
    if outlook:
        body = "".join(f"<p class=\"MsoNormal\"><span lang=\"EN-US\" style=\"font-size:11.0pt;font-family:"
                       f"&quot;Calibri&quot;,sans-serif;color:#1F497D;mso-fareast-language:EN-US\">{p}<o:p></o:p>"
                       "</span></p>\r\n"
                       "<p class=\"MsoNormal\"><span lang=\"EN-US\"><o:p>&nbsp;</o:p></span></p>\r\n"
                       for p in paragraphs)
        return (f"<html xmlns:o=\"urn:schemas-microsoft-com:office:office\"><head><meta http-equiv=\"Content-Type\" "
                f"content=\"text/html; charset=utf-8\">\r\n{STYLE}</head><body lang=\"DE\" link=\"#0563C1\" "
                f"vlink=\"#954F72\" style=\"word-wrap:break-word\"><div class=\"WordSection1\">\r\n{body}"
                f"<p class=\"MsoNormal\"><span lang=\"EN-US\">Best regards,<o:p></o:p></span></p>\r\n"
                + SIGNATURE_TABLE.format(name=name, domain=domain, company=domain.split(".")[0].title())
                + "</div></body></html>\r\n")
    body = "".join(f"<div>{p}</div><div><br></div>\r\n" for p in paragraphs)
    return f"<div dir=\"ltr\">{body}<div>Best regards,</div><div>{name}</div></div>\r\n"


def _alternative(rng: random.Random, text: str, html: str) -> tuple[str, bytes]:
    inner = f"=_a{rng.getrandbits(48):012x}"
    body = (f"--{inner}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}"
            f"--{inner}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            f"{html}--{inner}--\r\n")
    return f"multipart/alternative; boundary=\"{inner}\"", body.encode()


def _new_request(rng: random.Random, user: tuple[str, str], at: datetime) -> tuple[bytes, str, str, str]:
    name, addr = user
    domain = addr.split("@")[1]
    subject, line = rng.choice(TOPICS)
    mid = _msgid(rng, domain)
    paragraphs = _paragraphs(rng, line.capitalize() + ".")
    text = ("Hello,\r\n\r\n" + "\r\n".join(_plain_body(p) for p in paragraphs) +
            f"\r\nBest regards,\r\n{name}\r\n\r\n{_signature(name, domain)}")
    head = [("From", f"{name} <{addr}>"), ("To", f"{GATEWAY_NAME} <{GATEWAY}>"), ("Subject", subject),
            ("Date", format_datetime(at)), ("Message-ID", mid), ("MIME-Version", "1.0")]
    if rng.random() < 0.35:
        ctype, body = _alternative(rng, text, _html(["Hello,", *paragraphs], name, domain, rng.random() < 0.5))
    else:
        ctype, body = "text/plain; charset=utf-8", text.encode()
        head.append(("Content-Transfer-Encoding", "8bit"))
    if rng.random() < 0.10:
        fname, atype, magic = rng.choice(ATTACHMENTS)
        payload = base64.encodebytes(magic + rng.randbytes(rng.randint(20_000, 200_000))).replace(b"\n", b"\r\n")
        outer = f"=_b{rng.getrandbits(48):012x}"
        first = f"Content-Type: {ctype}\r\n" + ("" if "multipart" in ctype else "Content-Transfer-Encoding: 8bit\r\n")
        body = (f"--{outer}\r\n{first}\r\n".encode() + body +
                f"\r\n--{outer}\r\nContent-Type: {atype}; name=\"{fname}\"\r\nContent-Transfer-Encoding: base64\r\n"
                f"Content-Disposition: attachment; filename=\"{fname}\"\r\n\r\n".encode() + payload +
                f"--{outer}--\r\n".encode())
        ctype = f"multipart/mixed; boundary=\"{outer}\""
        head = [kv for kv in head if kv[0] != "Content-Transfer-Encoding"]
    head.append(("Content-Type", ctype))
    return _headers(head) + b"\r\n" + body, mid, subject, text


def _acknowledgement(name: str, key: str, subject: str) -> str:
    """What mailgate's acknowledgement says (templates/ack.txt.j2), with a signed link."""
    sig = hashlib.sha256(key.encode()).hexdigest()[:43]
    number = TICKET.format(key)
    return ("##- Please type your reply above this line -##\r\n\r\n"
            f"Hello {name},\r\n\r\nThank you for writing to {GATEWAY_NAME}. Your request has been received and is now\r\n"
            f"ticket #{number}: \"{subject}\".\r\n\r\n"
            "To add information, reply to this message and keep the ticket number in the subject.\r\n"
            f"Follow the ticket on the web: https://helpdesk.example.com/t/{number}?s={sig}\r\n\r\n"
            f"-- \r\n{GATEWAY_NAME}\r\n")


def _quote(text: str) -> str:
    return "".join(f"> {line}\r\n" if line else ">\r\n" for line in text.split("\r\n"))


def _reply(rng: random.Random, user: tuple[str, str], at: datetime, thread: dict) -> tuple[bytes, str, str]:
    name, addr = user
    domain = addr.split("@")[1]
    mid = _msgid(rng, domain)
    subject = f"[{GATEWAY_NAME} #{TICKET.format(thread['key'])}] {thread['subject']}"
    said = " ".join(rng.sample(REPLY_LINES, rng.randint(1, 3)))
    parent, parent_from = thread["last"], thread["last_from"]
    outlook = rng.random() < 0.4
    if outlook:  # the parent unquoted under the header block Outlook writes
        quoted = (f"________________________________\r\nFrom: {parent_from}\r\n"
                  f"Sent: {format_datetime(at - timedelta(hours=3))}\r\nTo: {name} <{addr}>\r\n"
                  f"Subject: {subject}\r\n\r\n{parent}")
        own = f"{_plain_body(said)}\r\nKind regards\r\n{name}\r\n\r\n"
    else:
        quoted = f"On {format_datetime(at - timedelta(hours=2))}, {parent_from} wrote:\r\n{_quote(parent)}"
        own = f"{_plain_body(said)}\r\n{_signature(name, domain)}\r\n"
    text = own + quoted
    head = [("From", f"{name} <{addr}>"), ("To", f"{GATEWAY_NAME} <{GATEWAY}>"),
            ("Subject", f"Re: {subject}"), ("Date", format_datetime(at)), ("Message-ID", mid),
            ("In-Reply-To", thread["refs"][-1]), ("References", " ".join(thread["refs"])), ("MIME-Version", "1.0")]
    if rng.random() < 0.40:
        esc = parent.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r\n", "<br>\r\n")
        style = STYLE if outlook else ""
        sign = SIGNATURE_TABLE.format(name=name, domain=domain, company=domain.split(".")[0].title()) if outlook else name
        html = (f"<html><head>{style}</head><body><div dir=\"ltr\"><div>{said}</div><div><br></div><div>{sign}</div></div><br>\r\n"
                f"<div class=\"gmail_quote\"><div dir=\"ltr\" class=\"gmail_attr\">On {format_datetime(at)}, "
                f"{parent_from.replace('<', '&lt;').replace('>', '&gt;')} wrote:<br></div>\r\n<blockquote "
                "class=\"gmail_quote\" style=\"margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);"
                f"padding-left:1ex\">{esc}</blockquote></div></body></html>\r\n")
        ctype, body = _alternative(rng, text, html)
        head.append(("Content-Type", ctype))
    else:
        head += [("Content-Type", "text/plain; charset=utf-8"), ("Content-Transfer-Encoding", "8bit")]
        body = text.encode()
    return _headers(head) + b"\r\n" + body, mid, text


def _request_events(rng: random.Random, n_new: int, n_reply: int, span: float) -> list[_Event]:
    users = _users(rng)
    weights = [1 / (i + 1) ** 0.7 for i in range(len(users))]
    events: list[_Event] = []
    threads: list[dict] = []
    for i in range(n_new):
        at = START + timedelta(seconds=rng.uniform(0, span * 0.8))
        user = rng.choices(users, weights)[0]
        raw, mid, subject, text = _new_request(rng, user, at)
        key = f"req-{i}"
        events.append(_Event(at, len(events), raw, {"message_id": mid[1:-1], "kind": "new", "thread": key}))
        # what the requester answers first: the desk's mail, with the request quoted below
        first = (f"{_acknowledgement(user[0], key, subject)}\r\nOn {format_datetime(at)}, {user[0]} "
                 f"<{user[1]}> wrote:\r\n{_quote(text)}")
        threads.append({"key": key, "user": user, "at": at, "subject": subject, "refs": [mid], "last": first,
                        "last_from": f"{GATEWAY_NAME} <{GATEWAY}>"})
    for _ in range(n_reply):
        t = rng.choice(threads)
        t["at"] = t["at"] + timedelta(minutes=rng.uniform(5, 600))
        raw, mid, text = _reply(rng, t["user"], t["at"], t)
        t["refs"] = t["refs"] + [mid]
        # the next reply quotes this one (its own quote included), as mail clients do, up to
        # the size at which people trim: 16 KB
        t["last"], t["last_from"] = text[:16_000], f"{t['user'][0]} <{t['user'][1]}>"
        events.append(_Event(t["at"], len(events), raw,
                             {"message_id": mid[1:-1], "kind": "reply", "thread": t["key"]}))
    return events


def _number_tickets(events: list[_Event]) -> None:
    """Fill in the ticket numbers: the n-th thread to appear in corpus order is ticket n."""
    number: dict[str, int] = {}
    for e in events:
        if e.truth["thread"] not in number:
            number[e.truth["thread"]] = len(number) + 1
        e.truth["ticket_number"] = number[e.truth["thread"]]
    for e in events:
        if b"\x00TICKET:" in e.raw:
            parts = e.raw.split(b"\x00")
            e.raw = b"".join(str(number[p[7:].decode()]).encode() if p.startswith(b"TICKET:") else p for p in parts)


def generate(n: int, seed: int = 1) -> Corpus:
    """n messages of the realistic mix, in time order, with the ground truth."""
    rng = random.Random(seed)
    n_alerts = round(n * 0.15)
    n_new = max(1, round(n * 0.40))
    n_reply = n - n_alerts - n_new
    span = max(3600.0, n * 120.0)
    events = _request_events(rng, n_new, n_reply, span) + _alert_events(rng, n_alerts, span)
    events.sort(key=lambda e: (e.at, e.order))
    _number_tickets(events)
    return Corpus([e.raw for e in events], [e.truth for e in events])
