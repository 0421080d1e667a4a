"""Response bodies of /api/v1/search and the report routes (issue 15)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class HitOut(BaseModel):
    ticket: int
    message: int = Field(description="the message's number within the store")
    message_id: str = Field(description="its Message-ID")
    subject: str
    ticket_subject: str
    status: str
    queue: str
    sender: str
    date: str | None
    internal: bool = Field(description="an internal note (staff only)")
    score: float = Field(description="higher is better")
    snippet: str = Field(description="HTML-escaped text around the hits, each hit in <mark>")
    quoted_in: list[int] = Field(description="with in:quoted: the messages that quoted this one")


class TicketHitsOut(BaseModel):
    ticket: int
    subject: str
    status: str
    queue: str
    score: float
    hits: list[HitOut]


class SearchOut(BaseModel):
    query: str
    hits: list[HitOut]
    tickets: list[TicketHitsOut] | None = Field(default=None, description="with group=true: the hits by ticket")
    note: str | None = None


class ReportOut(BaseModel):
    report: str = Field(description="monthly | sla | incidents")
    from_: str = Field(alias="from")
    to: str
    queues: list[str] | None
    rows: list[dict[str, Any]] = Field(description="monthly: month (YYYY-MM), created, resolved, open_at_end, ...; "
                                                   "incidents: ticket, systems, owner, start, end, ...")
