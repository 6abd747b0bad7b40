"""Bad input is named, never silently dropped (see ``on_bad_item`` in the data modules)."""

from __future__ import annotations

import os


class BadItemError(ValueError):
    """One input item (a file, or a metadata line) that cannot be used, and why."""

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path, self.reason = str(path), reason
        super().__init__(f"{path}: {reason}")
