"""The commands on top of the library: ``holozero fit | validate | test | predict`` (LightningCLI)
and ``holozero generate | sweep | report | analyze``. Each command imports what it needs when it runs."""

from __future__ import annotations

import importlib
import sys

OWN = ("generate", "sweep", "report", "analyze")  # ours, beside Lightning's subcommands


def main(args: list[str] | None = None) -> None:
    argv = sys.argv[1:] if args is None else list(args)
    if argv[:1] and argv[0] in OWN:
        return importlib.import_module(f"holozero.commands.{argv[0]}").main(argv[1:])
    from .cli import main as lightning_main

    lightning_main(args)
