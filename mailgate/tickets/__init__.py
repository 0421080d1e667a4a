"""The ticket service: the one place that changes a ticket, whichever door a change comes
through (mail, cli, api, web, rule, schedule).

    TicketService(env).command(ticket, actor, text)   # what an email to the ticket would do
    TicketService(env).note(ticket, actor, text)      # an internal note (staff only)
    TicketService(env).reply(ticket, actor, text)     # a public reply (mailed to the nosy list)

Each of them, and the mail pipeline's commands → lifecycle → notify stages, runs the same
three steps on an `Act` (who acts, verified how, what, from where):

    run_commands   verify the actor, check their role, apply the commands, record history
    follow_up      the lifecycle's consequences (a merge moves the message, the requester
                   wakes a snoozed ticket, a child's news goes to its parent's nosy list)
    notify         the acknowledgement, the receipt (to mail only) and the alert mails,
                   queued through the one outbox writer (mailgate.mailer)

Timed jobs, the alert grouping and the rules change tickets through the same service's
system calls (`set_status`, `set_field`, `wake`), so their history and mail match.
"""

from mailgate.tickets.act import Act, Receipt
from mailgate.tickets.service import TicketService

__all__ = ["Act", "Receipt", "TicketService"]
