"""The message on its way through the pipeline, and the contract every stage fulfils.

`ParsedMessage` and its parts are what the parser makes of the raw bytes; `CleanText` is
what the clean stage splits the body into; `Decision` is what the matching rules want
done; `Inbound` carries all of it, and what the database stages found, from stage to stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from mailgate.core.changes import Change, CommandReport
from mailgate.core.entry import SpoolEntry


@dataclass(frozen=True)
class Attachment:
    """A MIME part that is not body text, decoded to bytes."""

    filename: str
    content_type: str
    payload: bytes
    content_id: str = ""
    inline: bool = False
    # set when a preparing worker process has already written the file durably (its
    # payload then stays behind: b""): the writer only records it
    sha256: str = ""
    stored_size: int = 0


@dataclass(frozen=True)
class DeliveryReport:
    """What a bounce says: who failed (permanently), who is delayed, and the headers of
    the mail that bounced (from message/rfc822 or text/rfc822-headers)."""

    failed: tuple[str, ...] = ()
    delayed: tuple[str, ...] = ()
    original_headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ParsedMessage:
    message_id: str
    subject: str
    from_addr: str
    from_name: str
    to: tuple[tuple[str, str], ...]
    cc: tuple[tuple[str, str], ...]
    reply_to: tuple[tuple[str, str], ...]
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    date: datetime | None
    headers: tuple[tuple[str, str], ...]
    text_plain: str
    text_html: str
    attachments: tuple[Attachment, ...]
    content_hash: str
    defects: tuple[str, ...] = field(default=())
    # a bounce's delivery report (failed/delayed recipients, headers of the bounced mail)
    report: DeliveryReport | None = None
    # codecs the body parts were decoded with (diagnostics, tests)
    charsets: tuple[str, ...] = ()
    size: int = 0

    def header(self, name: str) -> str | None:
        """First value of a header (case-insensitive), or None."""
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)

    def header_all(self, name: str) -> list[str]:
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    @property
    def recipients(self) -> list[str]:
        return [a for _, a in self.to + self.cc if a]


@dataclass(frozen=True)
class CleanText:
    visible: str  # what the author wrote, stripped of trailing whitespace
    quoted: str  # quoted history removed from visible (may be "")
    signature: str  # signature / mobile footer / disclaimer removed (may be "")


@dataclass
class Decision:
    """What the matching rules want done with one message (later rules override earlier
    single values; nosy and tags accumulate)."""

    matched: list[str] = field(default_factory=list)
    queue: str | None = None
    priority: int | None = None
    owner: str | None = None
    status: str | None = None
    subject: str | None = None  # the title of a ticket the message opens
    nosy: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    drop: str | None = None  # the reason, when dropped
    hold: str | None = None  # the reason, when held for a person
    fingerprint: str = ""
    alert: str = ""  # problem | recovery | note ("" unless a fingerprint was set)
    alert_state: str = ""  # e.g. CRITICAL, as the monitoring system said it
    groups: dict[str, str] = field(default_factory=dict)
    steps: list[tuple[str, str, str]] = field(default_factory=list)  # (rule, action, value)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "steps"} | {
            "steps": [{"rule": r, "action": a, "value": v} for r, a, v in self.steps]}


class QueueInfo(Protocol):
    """What the pipeline needs of a configured queue ([[queue]] in the settings)."""

    name: str
    address: str
    default_priority: int


@dataclass
class Inbound:
    """One message on its way through the pipeline."""

    entry: SpoolEntry
    raw: bytes
    parsed: ParsedMessage | None = None
    auto_class: str = ""  # "" for a person's mail; auto-reply | bounce | list | alert | ...
    queue: QueueInfo | None = None
    clean: CleanText | None = None
    ticket_id: int | None = None
    thread_signal: str = ""
    token_person_id: int | None = None  # person bound to a valid reply token
    link_to: list[tuple[int, str]] = field(default_factory=list)  # (ticket, kind) to link
    notes: list[str] = field(default_factory=list)  # said in the acknowledgement
    created: bool = False
    message_row_id: int | None = None
    body: str | None = None  # visible text minus command lines; None when there were none
    internal: bool = False  # a `comment:` note: shown to staff, never sent to the requester
    changes: list[Change] = field(default_factory=list)  # what commands and rules changed
    command_report: CommandReport | None = None  # applied/refused, for the receipt
    rules: Decision | None = None  # what the matching rules decided
    safe_html: str | None = None  # the HTML part as stored (sanitized by the clean stage, off the writer)
    # what the database stages fetched or built once per message (the ticket and sender
    # rows, the ticket service's act); never set by the pure stages, so they never travel
    # between processes, and typed loosely because their types live on higher floors
    ticket_row: Any = None
    sender_row: Any = None
    message_row: Any = None
    act: Any = None

    @property
    def message_id(self) -> str:
        return self.parsed.message_id if self.parsed else ""

    @property
    def text(self) -> str:
        """The text the message adds to its ticket: command lines taken out, quotes and
        signature left to their own fields."""
        if self.body is not None:
            return self.body
        if self.clean is not None:
            return self.clean.visible
        return self.parsed.text_plain if self.parsed else ""


EnvT = TypeVar("EnvT", contravariant=True)


class Stage(Protocol[EnvT]):
    """A pipeline stage: reads and fills fields of the message; raises a PolicyOutcome to
    end the message's processing, anything else to have it quarantined."""

    name: str

    def __call__(self, msg: Inbound, env: EnvT) -> None: ...
