"""Which envelope recipients the gateway accepts: shared by the MTA pipe and the SMTP/LMTP
listeners, so both refuse at the door what the pipeline would otherwise have to bounce."""

from __future__ import annotations

from mailgate.tokens import parse_token, split_plus

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the MTA pipe's path)
if TYPE_CHECKING:  # the pipe's fast path passes its PipeSettings and skips the package
    from mailgate.config import Settings
    from mailgate.pipe_config import PipeSettings


def recipient_known(settings: Settings | PipeSettings, address: str) -> bool:
    """A queue address, or a queue address with a valid signed reply token."""
    base, tag = split_plus(address)
    if settings.queue_for_address(base) is None:
        return False
    return tag is None or parse_token(tag, settings.gateway.secret) is not None
