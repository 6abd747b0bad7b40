"""Warn when a stacked config or a flag switches a class and so drops settings of the old one.

``--config quickstart.yaml --config configs/data/text.yaml`` switches the data module from
the mixture to text: jsonargparse keeps the settings the new class accepts (K, batch_size,
text, ...) and drops the rest (the captioned, audio and frames settings) with only a debug
log line. The CLI's parsers log to :func:`switch_logger`, which turns that line into a
warning naming the classes and the dropped settings.
"""

from __future__ import annotations

import logging
import os
import re
import sys

LOGGER_NAME = "holozero.config"
DISCARDED = re.compile(r"class_path change from '([^']+)' to '([^']+)', discarding init_args: (\{.*\})", re.S)
OPEN, CLOSE = "([{", ")]}"


def top_level_items(text: str) -> list[tuple[str, str]]:
    """(key, value text) of the outermost mapping in a ``repr`` of a dict."""
    items, depth, quote, start, key = [], 0, None, 0, None
    for i, ch in enumerate(text):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in OPEN:
            depth += 1
            if depth == 1:
                start = i + 1
        elif ch in CLOSE:
            if depth == 1 and key is not None:
                items.append((key, text[start:i].strip()))
            depth -= 1
        elif depth == 1 and ch == ":" and key is None:
            key, start = text[start:i].strip().strip("'\""), i + 1
        elif depth == 1 and ch == ",":
            if key is not None:
                items.append((key, text[start:i].strip()))
            key, start = None, i + 1
    return items


def short(class_path: str) -> str:
    return class_path.rsplit(".", 1)[-1]


class DroppedSettings(logging.Handler):
    """Prints each class switch that drops settings once, on the first process only."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.seen: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        found = DISCARDED.search(record.getMessage())
        if found is None or os.environ.get("LOCAL_RANK", "0") != "0":
            return
        old, new, dropped = found.groups()
        keys = [k for k, v in top_level_items(dropped) if v != "None"]
        line = f"holozero: warning: switching {short(old)} to {short(new)} drops its settings: {', '.join(keys)}"
        if keys and line not in self.seen:
            self.seen.add(line)
            print(line, file=sys.stderr)


def switch_logger() -> logging.Logger:
    """The logger the CLI's parsers get (a named one: jsonargparse deep-copies parsers, and
    only a registered logger survives that); each call starts a fresh set of warnings."""
    logger = logging.getLogger(LOGGER_NAME)
    handler = next((h for h in logger.handlers if isinstance(h, DroppedSettings)), None)
    if handler is None:
        handler = DroppedSettings()
        logger.addHandler(handler)
    handler.seen.clear()
    logger.setLevel(logging.DEBUG)
    logger.propagate = False  # jsonargparse's other debug lines go nowhere
    return logger
