"""The command line's logging, shared by the MTA pipe's fast path (mailgate.console) and
the click commands (mailgate.cli); logging is imported only when a command needs it: the
spooling pipe never logs."""

from __future__ import annotations

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(verbose: bool) -> None:
    import logging

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format=LOG_FORMAT)
