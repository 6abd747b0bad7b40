"""The commands on top of the library: ``holozero fit | validate | test | predict`` (LightningCLI)
and ``holozero generate | sweep | report | analyze | ...``. Each command imports what it needs
when it runs; ``holozero --help`` imports nothing but the standard library.

From the command line, a user error prints one message (``errors.py``); called from Python
with ``args``, errors are raised as exceptions for the caller to handle.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
from pathlib import Path

from .errors import UsageError, suggest, user_errors

LIGHTNING = {
    "fit": "train a model (LightningCLI: --config FILE ..., --print_config)",
    "validate": "score a checkpoint on the validation split, into its own run folder",
    "test": "score a checkpoint on the test split, into its own run folder",
    "predict": "per-byte losses of a checkpoint",
}
# ours, beside Lightning's subcommands; a name whose module is not installed is left out
OWN = ("generate", "sweep", "report", "analyze", "evaluate", "export", "summary", "events", "doors", "lmeval")


def own_commands() -> dict[str, Path]:
    """name -> source file of each of our commands that exists."""
    found = {}
    for name in OWN:
        spec = importlib.util.find_spec(f"{__name__}.{name}")
        if spec is not None and spec.origin:
            found[name] = Path(spec.origin)
    return found


def first_sentence(source: Path) -> str:
    """The first sentence of a command module's docstring, read without importing it."""
    doc = ast.get_docstring(ast.parse(source.read_text(encoding="utf-8"))) or ""
    text = " ".join(doc.split("\n\n")[0].split()).replace("``", "")
    if text.startswith("holozero ") and ": " in text:  # "holozero report DIR: tables and ..."
        text = text.split(": ", 1)[1]
    return text.split(". ", 1)[0].rstrip(".:")


def usage() -> str:
    own = own_commands()
    rows = dict(LIGHTNING) | {name: first_sentence(path) for name, path in own.items()}
    width = max(map(len, rows))
    lines = [
        "usage: holozero COMMAND [options]   (holozero COMMAND --help for a command's options)",
        "",
        "commands:",
    ]
    lines += [f"  {name:<{width}}  {text}" for name, text in rows.items()]
    lines += ["", "HOLOZERO_DEBUG=1 shows the full traceback of an error."]
    return "\n".join(lines)


def run(argv: list[str], from_command_line: bool = False) -> None:
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return
    command = argv[0]
    own = own_commands()
    if command in own:
        return importlib.import_module(f"{__name__}.{command}").main(argv[1:])
    if command in LIGHTNING or command.startswith("-"):
        from .cli import main as lightning_main
        from .process_group import end_process_group

        lightning_main(None if from_command_line else argv)  # LightningCLI reads sys.argv itself
        return end_process_group()  # a DDP command's group, before interpreter exit can abort on it
    raise UsageError("holozero", f"unknown command {command!r}{suggest(command, [*LIGHTNING, *own])}")


def main(args: list[str] | None = None) -> None:
    if args is not None:  # called from Python: the caller sees the exception itself
        return run(list(args))
    argv = sys.argv[1:]
    command = argv[0] if argv and not argv[0].startswith("-") else ""
    with user_errors(f"holozero {command}".strip()):
        run(argv, from_command_line=True)
