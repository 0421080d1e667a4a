"""mailgate: an email-first helpdesk mail gateway."""

__version__ = "0.1.0"
