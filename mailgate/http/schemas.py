"""The API's request and response bodies: the OpenAPI spec at /api/v1/openapi.json is
generated from these (and checked against the live server by schemathesis in the suite)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_TEXT = 1_000_000  # characters of one note, reply or command text


class AttachmentIn(BaseModel):
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(default="application/octet-stream", max_length=127,
                              pattern=r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$")
    content_base64: str = Field(description="the file's bytes, base64")

    @field_validator("content_base64")
    @classmethod
    def _decodes(cls, value: str) -> str:
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("not valid base64") from None
        return value

    def triple(self) -> tuple[str, str, bytes]:
        return self.filename, self.content_type, base64.b64decode(self.content_base64)


class TextIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=MAX_TEXT)


class NoteIn(TextIn):
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=50)


class CommandsIn(TextIn):
    """The text an email would carry: `name: value` lines at the top, e.g.
    "status: resolved\\nowner: alice"; any text below them is a public reply."""


class RequesterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    address: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s<>]+@[^@\s<>]+$")
    name: str = Field(default="", max_length=200)


class TicketIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: str = Field(min_length=1, max_length=998)
    text: str = Field(default="", max_length=MAX_TEXT)
    requester: RequesterIn | None = Field(default=None, description="default: the token's own person")
    queue: str = Field(default="", max_length=200, description="a queue name; default the first queue")
    acknowledge: bool = Field(default=True, description="mail the requester the acknowledgement")
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=50)


class TicketSummary(BaseModel):
    id: int
    subject: str
    status: str
    priority: int
    queue: str
    owner: str | None
    requester: str | None
    created_at: str | None
    updated_at: str | None


class TicketPage(BaseModel):
    items: list[TicketSummary]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last")


class AttachmentOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    content_id: str | None = None


class MessageOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: int
    message_id: str
    direction: str
    body: str
    internal: bool
    attachments: list[AttachmentOut]


class EventOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    at: str | None
    actor: str
    field: str
    old: str | None
    new: str | None
    source: str | None = None


class TicketDetail(TicketSummary):
    """The same contract as `mailgate ticket show --json` (README); a requester's view
    leaves out internal notes, their history and the staff-only fields."""

    model_config = ConfigDict(extra="allow")
    nosy: list[str]
    messages: list[MessageOut]
    events: list[EventOut]


class CommandResultOut(BaseModel):
    line: str
    result: str


class CommandRefusalOut(BaseModel):
    line: str
    reason: str


class ChangeOut(BaseModel):
    field: str
    old: str | None
    new: str | None
    actor: str


class ReceiptOut(BaseModel):
    """What the act did: applied and refused commands with reasons, the changes, the mail."""

    ticket: int
    message_id: str | None
    internal: bool
    applied: list[CommandResultOut]
    refused: list[CommandRefusalOut]
    unverified: str | None
    verified_by: str | None
    help_requested: bool
    changes: list[ChangeOut]
    outbox: list[int]


class PersonOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    address: str
    name: str
    role: str
    open: int
    total: int
    tickets: list[dict[str, Any]]


class StatusOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    daemon: str
    daemon_running: bool
    errors: list[str]
    spool: dict[str, Any]
    quarantine: int
    outbox: dict[str, Any]


class ProblemOut(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[dict[str, str]] | None = None
