"""Errors and typed policy signals.

A policy outcome (a loop to discard, a rule's hold, an alert repeat recorded compactly) is
a signal, not a bug: any stage raises one to end a message's processing, and the pipeline
records it and moves on. Anything else a stage raises is a bug or unreadable input and
sends the message to the quarantine with the stage name and traceback. `Refused` is what a
command raises for a value it cannot apply; its reason goes to the person as it is.

Imports nothing (not even dataclasses): the MTA pipe imports this module per message.
"""

from __future__ import annotations


class MailgateError(Exception):
    """Base class for errors mailgate reports to a person as one line."""


class ConfigError(MailgateError):
    """The configuration file is missing, unreadable or invalid."""


class TransientError(MailgateError):
    """A failure that retrying later may cure (spool full, database locked)."""


class LockBusy(TransientError):
    """Another transaction (another node) holds a lock this message needs: its ticket row,
    or the key of its Message-ID or alert fingerprint. Raised instead of waiting, so a group
    transaction never waits while it holds locks (no deadlock between nodes): the group
    commits what it has, and a new transaction waits first (`wait_sql`), then goes on."""

    def __init__(self, what: str, wait_sql: str, params: tuple[object, ...]) -> None:
        super().__init__(f"{what} is locked by another transaction")
        self.what = what
        self.wait_sql = wait_sql
        self.params = params


class PolicyOutcome(Exception):  # noqa: N818 - a signal, not an error
    """A decision that ends a message's processing without an error. Raised by a pure
    stage, nothing was written; raised by a database stage, what the stage recorded before
    raising commits with the message's transaction."""

    outcome = "policy"

    def __init__(self, reason: str, ticket_id: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.ticket_id = ticket_id


class Discard(PolicyOutcome):
    """Drop the message on purpose (our own mail looping back, a rule's drop); logged."""

    outcome = "discarded"


class Recorded(PolicyOutcome):
    """Fully handled without a stored message (an alert repeat or recovery, counted)."""

    outcome = "recorded"


class Held(PolicyOutcome):
    """Keep the message in the quarantine until a person releases it (a rule's hold)."""

    outcome = "held"


class StageFailure(MailgateError):
    """A stage raised: carries the stage name so the quarantine can say where it broke."""

    def __init__(self, stage: str, error: str, traceback_text: str) -> None:
        super().__init__(f"{stage}: {error}")
        self.stage = stage
        self.error = error
        self.traceback_text = traceback_text

    def __reduce__(self) -> tuple[type, tuple[str, str, str]]:
        # crosses the process boundary from a preparing worker (its __init__ takes three)
        return (StageFailure, (self.stage, self.error, self.traceback_text))


class Refused(Exception):  # noqa: N818 - the reason is for the person, not a crash
    """A command that was not applied; the message says why, for the person who sent it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Invalid(MailgateError):
    """A request a front door cannot act on as given (empty text, a bad value); says why."""


class NotFound(MailgateError):
    """A ticket, person or attachment a caller named does not exist."""


class Forbidden(MailgateError):
    """The person acting may not do this (their role, or an unverified sender)."""


class Conflict(MailgateError):
    """The change cannot be made in the ticket's present state (archived, merged away)."""
