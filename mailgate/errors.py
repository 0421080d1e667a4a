"""Errors and typed policy outcomes.

Policy outcomes (a loop to discard, a sender to refuse) are signals, not bugs: the pipeline
records them and moves on. Anything else raised by a stage is a bug or unreadable input and
sends the message to the quarantine with the stage name and traceback.
"""

from __future__ import annotations


class MailgateError(Exception):
    """Base class for errors mailgate reports to a person as one line."""


class ConfigError(MailgateError):
    """The configuration file is missing, unreadable or invalid."""


class UnknownRecipient(MailgateError):
    """The envelope recipient is neither a queue address nor a valid reply address."""


class TransientError(MailgateError):
    """A failure that retrying later may cure (spool full, database locked)."""


class PolicyOutcome(Exception):
    """A decision about a message that ends its processing without an error."""

    outcome = "policy"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Discard(PolicyOutcome):
    """Drop the message on purpose (our own mail looping back); logged, never silent."""

    outcome = "discarded"


class StageFailure(MailgateError):
    """A stage raised: carries the stage name so the quarantine can say where it broke."""

    def __init__(self, stage: str, error: str, traceback_text: str) -> None:
        super().__init__(f"{stage}: {error}")
        self.stage = stage
        self.error = error
        self.traceback_text = traceback_text
