from tests.outbox.sink import desk  # noqa: F401  (the gateway + SMTP relay fixture)
