"""Pipeline stages, in the order a message meets them (mailgate.pipeline runs them):

    parse → addressing → classify → rules → clean                      pure: no database
    alerts → thread → store → rule-actions → commands → lifecycle → notify
                                                                        one transaction

Each module holds one stage, named after it: a small class with a `name` and
`__call__(msg, env)` that reads and fills fields of the Inbound message (mailgate.core).
A stage ends a message's processing by raising a PolicyOutcome (Discard, Recorded, Held);
anything else it raises sends the message to the quarantine. Pure stages may run in worker
processes; the database stages run inside the one transaction that marks the message done,
and change tickets only through the ticket service (mailgate.tickets).
"""
