"""LMTP (RFC 2033): the MTA's last hop. Same handler as SMTP; replies per recipient."""

from __future__ import annotations

from aiosmtpd.lmtp import LMTP

from mailgate.daemon.smtp import GatewaySMTP


class GatewayLMTP(GatewaySMTP, LMTP):
    """LHLO instead of EHLO, no greeting banner difference; session limit from GatewaySMTP."""
