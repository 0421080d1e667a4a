"""Recognise automatic mail (RFC 3834 and friends) and our own mail coming back.

Runs before threading, so threading and storing know what they are handling:

    bounce          a delivery report or a MAILER-DAEMON mail: never opens a ticket
    auto-reply      out-of-office and other answers by a machine: a note, never a status change
    auto-generated  RFC 3834 auto-generated (cron, monitoring): may open a ticket, never gets an ack
    list            mail through a mailing list (List-Id): a person wrote it, but no ack
    ""              a person's mail

Our own mail coming back (X-Loop, our Message-ID domain, From one of our addresses) is a
Discard signal: dropped and logged, never stored, never answered.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from mailgate.core.errors import Discard
from mailgate.core.message import Inbound, ParsedMessage

if TYPE_CHECKING:
    from mailgate.env import Env

log = logging.getLogger("mailgate.classify")

LOOP_HEADER = "X-Loop"
BOUNCE, AUTO_REPLY, AUTO_GENERATED, LIST = "bounce", "auto-reply", "auto-generated", "list"
# classes that never change a ticket's status and never open one by themselves
MACHINE_ANSWERS = (BOUNCE, AUTO_REPLY)

# Out-of-office subjects: "<phrase>: <original subject>" or the phrase alone. A person may
# well write "Vacation request", so loose words never classify on their own.
_AUTO_PHRASES = (
    r"out of (the )?office( reply| autoreply| auto reply)?|automatic reply|auto(matic)?[- ]?reply|autoreply|"
    r"auto[- ]?response|abwesenheitsnotiz|automatische antwort|abwesenheit|"
    r"r[ée]ponse automatique|absence du bureau|risposta automatica|fuori sede|"
    r"respuesta autom[áa]tica|fuera de la oficina|afwezigheidsbericht|automatisch antwoord|"
    r"automatiskt svar|automatisk svar|automaattinen vastaus|resposta autom[áa]tica|"
    r"automatyczna odpowied[źz]|автоматический ответ|不在通知|自動応答|自动回复|自動回覆|자동 응답"
)
_AUTO_SUBJECT_RE = re.compile(rf"^\s*(?:\[[^\]]*\]\s*)?(?:{_AUTO_PHRASES})\s*(?:[:：]|$)", re.IGNORECASE)
_BOUNCE_SUBJECT_RE = re.compile(
    r"^\s*(undeliver(able|ed)|delivery (status notification|failure|has failed)|"
    r"returned mail|mail delivery (failed|system)|failure notice|unzustellbar|"
    r"non remis|non recapitabile|onbestelbaar)",
    re.IGNORECASE,
)
_BOUNCE_SENDERS = ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon")


def classify_headers(p: ParsedMessage) -> str:
    """The automatic-mail class of a parsed message ("" for a person's mail)."""
    auto = (p.header("Auto-Submitted") or "no").strip().lower()
    precedence = (p.header("Precedence") or "").strip().lower()
    ctype = (p.header("Content-Type") or "").lower()
    return_path = (p.header("Return-Path") or "").strip()
    local = p.from_addr.split("@")[0]
    if ("multipart/report" in ctype and "delivery-status" in ctype) or p.report and p.report.failed:
        return BOUNCE
    if (local in _BOUNCE_SENDERS or return_path == "<>") and (
            _BOUNCE_SUBJECT_RE.search(p.subject) or p.report is not None or not auto.startswith("no")
            or any(a.content_type == "message/rfc822" for a in p.attachments)):
        # a postmaster may also write to the help desk as a person: the sender alone is not enough
        return BOUNCE
    if "disposition-notification" in ctype:  # a read receipt (RFC 8098): a machine's answer
        return AUTO_REPLY
    if auto.startswith("auto-replied") or p.header("X-Autoreply") or p.header("X-Autorespond"):
        return AUTO_REPLY
    suppress = (p.header("X-Auto-Response-Suppress") or "").lower()
    if precedence == "auto_reply" or _AUTO_SUBJECT_RE.search(p.subject):
        return AUTO_REPLY
    if not auto.startswith("no") or any(word in suppress for word in ("all", "oof", "autoreply")):
        # X-Auto-Response-Suppress asks us not to answer; Outlook also puts it on meeting
        # requests a person sent, so it never hides the mail the way an auto-reply class does
        return AUTO_GENERATED
    if p.header("List-Id") or p.header("List-Unsubscribe") or p.header("List-Post"):
        return LIST
    if precedence in ("bulk", "junk", "list"):
        return AUTO_GENERATED if precedence != "list" else LIST
    return ""


def own_domains(env: Env) -> set[str]:
    addresses = [env.settings.gateway.address] + [q.address for q in env.settings.queues]
    return {a.rpartition("@")[2].lower() for a in addresses}


class Classify:
    name = "classify"

    def __call__(self, msg: Inbound, env: Env) -> None:
        p = msg.parsed
        assert p is not None
        gateway = env.settings.gateway.address.lower()
        ours = {gateway} | {q.address.lower() for q in env.settings.queues}
        loops = {v.strip().lower() for v in p.header_all(LOOP_HEADER)}
        if loops & ours:
            raise Discard(f"our own mail came back (X-Loop: {', '.join(sorted(loops & ours))})")
        if p.from_addr in ours:
            raise Discard(f"mail from the gateway's own address {p.from_addr}")
        if p.message_id.startswith("mailgate.") and p.message_id.rpartition("@")[2] in own_domains(env):
            raise Discard(f"our own Message-ID came back ({p.message_id})")
        msg.auto_class = classify_headers(p)
        if msg.auto_class:
            log.info("message %s classified %s (stage classify)", p.message_id, msg.auto_class)
