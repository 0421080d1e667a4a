"""The ground floor: the plain types every other part of mailgate shares.

Nothing here imports anything else of mailgate, so every package above may import it and
none of them meets another through it (GNU Mailman 3's `interfaces/` is the model):

    errors      the errors and the typed signals that end a message's processing
    entry       SpoolEntry, one queued raw message (kept cheap: the MTA pipe imports it)
    message     the parsed message, the per-message context (Inbound), the stage protocol
    changes     a change, a command line, a command report, a sender's verdict, sources
    statuses    the ticket statuses, spelled out once
    registry    an explicit registry that refuses duplicates

This package's __init__ imports nothing: `mailgate deliver` imports `core.errors` and
`core.entry` only, and must not pay for dataclasses.
"""
