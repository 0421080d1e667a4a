"""`mailgate serve`: one asyncio process that takes mail in (SMTP, LMTP, IMAP, the MTA pipe's
queue), runs the pipeline in one database thread, and runs timed jobs. See docs/daemon.md."""
