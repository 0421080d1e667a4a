"""Recognise automatic mail (RFC 3834 and friends) and our own mail coming back."""

from __future__ import annotations

import re

from mailgate.errors import Discard
from mailgate.stages.base import Env, Inbound

LOOP_HEADER = "X-Loop"

_AUTO_SUBJECT_RE = re.compile(
    r"^\s*(out of (the )?office|automatic reply|auto(matic)?[- ]?reply|autoreply|abwesenheitsnotiz|"
    r"réponse automatique|risposta automatica|respuesta automática|afwezigheidsbericht|"
    r"automatisch antwoord|fuera de la oficina|vacation|urlaub)",
    re.IGNORECASE,
)


def classify_headers(msg: Inbound, gateway_address: str) -> str:
    p = msg.parsed
    assert p is not None
    auto = (p.header("Auto-Submitted") or "no").strip().lower()
    precedence = (p.header("Precedence") or "").strip().lower()
    ctype = (p.header("Content-Type") or "").lower()
    return_path = (p.header("Return-Path") or "").strip()
    sender = p.from_addr.lower()
    if "multipart/report" in ctype and "delivery-status" in ctype:
        return "bounce"
    if sender.split("@")[0] in ("mailer-daemon", "postmaster") or return_path == "<>":
        return "bounce"
    if not auto.startswith("no") or p.header("X-Autoreply") or p.header("X-Autorespond"):
        return "auto-reply"
    if precedence in ("bulk", "junk", "auto_reply"):
        return "auto-reply"
    if (p.header("X-Auto-Response-Suppress") or "").lower() in ("all", "oof", "autoreply"):
        return "auto-reply"
    if _AUTO_SUBJECT_RE.search(p.subject):
        return "auto-reply"
    if p.header("List-Id") or p.header("List-Unsubscribe"):
        return "list"
    return ""


class Classify:
    name = "classify"

    def __call__(self, msg: Inbound, env: Env) -> None:
        p = msg.parsed
        assert p is not None
        gateway = env.settings.gateway.address.lower()
        loops = [v.strip().lower() for v in p.header_all(LOOP_HEADER)]
        if gateway in loops:
            raise Discard(f"our own mail came back (X-Loop: {gateway})")
        if p.from_addr == gateway or p.from_addr in {q.address.lower() for q in env.settings.queues}:
            raise Discard(f"mail from the gateway's own address {p.from_addr}")
        msg.auto_class = classify_headers(msg, gateway)
