"""Pipeline stages. Each module holds one stage: a small class with a `name` and
`__call__(msg, env)` that reads and fills fields of the Inbound message object.

Pure stages (no database) run first and may run in worker processes; database stages run
inside the one transaction that marks the message done."""
