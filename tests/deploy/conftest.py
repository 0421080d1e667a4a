"""Deployment tests: the shipped systemd units and Postfix examples, run with the real parts."""

from tests.daemon.conftest import make_daemon  # noqa: F401 - the daemon as a subprocess, reused here
