"""The argument parser of holozero's own commands (generate, sweep, report, analyze, ...).

Flags are never abbreviated (``--max_byte`` is an error, not ``--max_bytes``), and a wrong
one raises :class:`UsageError` naming the closest real flag, which the command line prints
as one line and a pointer to ``--help`` instead of argparse's usage dump.
"""

from __future__ import annotations

import argparse

from .errors import UsageError, suggest


class CommandParser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs["allow_abbrev"] = False  # a prefix of a flag is a typo, never that flag
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        unknown = [a.split("=", 1)[0] for a in message.split(": ", 1)[-1].split() if a.startswith("-")]
        if message.startswith("unrecognized arguments") and unknown:
            message += suggest(unknown[0], self._option_string_actions)
        raise UsageError(self.prog, message)
