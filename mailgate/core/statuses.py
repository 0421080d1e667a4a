"""Ticket statuses, spelled out once.

    new → open ⇄ stalled → resolved → closed      (rejected: refused work)
    archived and merged are set by the lifecycle, never by a `status:` command.
"""

from __future__ import annotations

# what a `status:` command, a rule or a form may set
SETTABLE = ("open", "stalled", "resolved", "closed", "rejected")
# what a rule's `status` action may set (a rule may also leave a ticket new)
RULE_SETTABLE = ("new", *SETTABLE)
STATUSES = ("new", *SETTABLE, "archived", "merged")
# work still to do: SLA clocks run, escalation applies, alerts repeat onto it
ACTIVE = ("new", "open", "stalled")
# done, but a reply may bring it back
DONE = ("resolved", "closed")
# finished for good: a reply opens a new, linked ticket once closed_reopen_days have passed
ENDED = ("closed", "rejected")
# kept out of `ticket list` unless asked for
HIDDEN = ("archived", "merged")
