"""The `mailgate` console script.

`mailgate deliver` runs once per message as the MTA pipe, so its start-up is the pipe's
throughput: click alone costs ~20 ms to import, more than the delivery itself. The plain
forms an MTA uses are recognised here by hand and go straight to mailgate.mta_pipe;
everything else (`--help`, other commands, anything unusual) goes to the click group, so
messages and exit codes stay the click command's own.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the hot path
if TYPE_CHECKING:
    from mailgate.config import Settings
    from mailgate.env import Env
    from mailgate.pipe_config import PipeSettings

class DeliverArgs:
    # a plain class: dataclasses would cost this hot path their import
    __slots__ = ("config", "verbose", "recipients", "source")

    def __init__(self, config: str | None, verbose: bool, recipients: tuple[str, ...], source: str) -> None:
        self.config, self.verbose, self.recipients, self.source = config, verbose, recipients, source


# (group options, deliver options) taking a value; long forms also as --name=value
_GROUP_VALUE = {"--config": "config"}
_DELIVER_VALUE = {"--recipient": "recipient", "-r": "recipient", "--source": "source"}


def parse_deliver_argv(argv: list[str]) -> DeliverArgs | None:
    """The arguments of a plain `mailgate [--config P] [-v] deliver [-r A]... [--source S]`,
    or None for anything else: the click group then parses it (and prints its own help or
    usage error). Values that look like options are left to click too."""
    config: str | None = None
    verbose = False
    recipients: list[str] = []
    source = "pipe"
    i, n = 0, len(argv)
    seen_command = False
    while i < n:
        arg = argv[i]
        options = _DELIVER_VALUE if seen_command else _GROUP_VALUE
        name, eq, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if not seen_command and arg in ("-v", "--verbose"):
            verbose = True
        elif not seen_command and arg == "deliver":
            seen_command = True
        elif name in options:
            if not eq:
                if i + 1 >= n:
                    return None
                i += 1
                value = argv[i]
            if value.startswith("-"):
                return None
            key = options[name]
            if key == "config":
                config = value
            elif key == "recipient":
                recipients.append(value)
            else:
                source = value
        elif seen_command and arg.startswith("-r") and len(arg) > 2 and arg[2] != "-":
            recipients.append(arg[2:])  # -rADDR, as click accepts it
        else:
            return None
        i += 1
    if not seen_command:
        return None
    return DeliverArgs(config, verbose, tuple(recipients), source)


def main() -> None:
    args = parse_deliver_argv(sys.argv[1:])
    if args is None:
        from mailgate.cli import main as click_main

        click_main()
        return
    # A spooling pipe process allocates a few thousand objects while importing and exits
    # after one message: the collector's passes are pure cost (~2 ms, 4%). Processing inline
    # turns it back on (build_env below).
    import gc

    gc.disable()
    sys.exit(run_deliver(args))


def run_deliver(args: DeliverArgs) -> int:
    """The fast path: the configuration through the pipe's record (mailgate.pipe_config),
    the full loader and the pipeline only when the message is processed here."""
    from mailgate.config_location import config_path
    from mailgate.mta_pipe import deliver
    from mailgate.pipe_config import PipeSettings, load_pipe_settings

    path = config_path(args.config)

    def build_env(settings: Settings | PipeSettings) -> Env:
        import gc

        from mailgate.app import build_env
        from mailgate.config import load_settings
        from mailgate.logsetup import configure_logging

        gc.enable()
        configure_logging(args.verbose)
        full = load_settings(settings.path) if isinstance(settings, PipeSettings) else settings
        return build_env(full)

    return deliver(lambda: load_pipe_settings(path), args.recipients, args.source, args.verbose, build_env)
