"""The data handed between stages and the contract each stage fulfils."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from mailgate.parse import ParsedMessage
from mailgate.spool import SpoolEntry

if TYPE_CHECKING:
    from jinja2 import Environment

    from mailgate.clean import CleanText
    from mailgate.commands.base import Change, CommandReport
    from mailgate.config import QueueSettings, Settings
    from mailgate.rules import Decision, RuleSet
    from mailgate.spool import Spool


@dataclass
class Inbound:
    """One message on its way through the pipeline."""

    entry: SpoolEntry
    raw: bytes
    parsed: ParsedMessage | None = None
    auto_class: str = ""  # "" for a person's mail; auto-reply | bounce | list | ...
    queue: QueueSettings | None = None
    clean: CleanText | None = None
    ticket_id: int | None = None
    thread_signal: str = ""
    token_person_id: int | None = None  # person bound to a valid reply token
    link_to: list[tuple[int, str]] = field(default_factory=list)  # (ticket, kind) to link
    notes: list[str] = field(default_factory=list)  # said in the acknowledgement
    created: bool = False
    message_row_id: int | None = None
    # commands and alerts (issue 4)
    body: str | None = None  # visible text minus command lines; None when there were none
    internal: bool = False  # a `comment:` note: shown to staff, never sent to the requester
    changes: list[Change] = field(default_factory=list)  # what commands changed, for alerts
    command_report: CommandReport | None = None  # applied/refused, for the receipt
    # rules (issue 6): what the matching rules decided, carried out by the database stages
    rules: Decision | None = None
    # set by a database stage that has fully handled the message (an alert repeat recorded
    # compactly, a rule's drop or hold): later stages are skipped and the transaction commits
    halt: str = ""  # the Outcome status: recorded | discarded | held
    halt_detail: str = ""
    outcome: str = ""
    # rows fetched once per message by the database stages (mailgate/stages/rows.py); never
    # set by the pure stages, so they never travel between processes
    ticket_row: Any = None
    sender_row: Any = None


@dataclass
class Env:
    """What stages need from the outside world, built once by the composition root."""

    settings: Settings
    spool: Spool
    templates: Environment
    clock: Callable[[], datetime]
    # rules/*.toml, loaded on first use; a reload replaces it only when the new files load (issue 6)
    rules: RuleSet | None = None


class Stage(Protocol):
    name: str

    def __call__(self, msg: Inbound, env: Env) -> None: ...
