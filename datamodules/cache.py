"""Build a cache folder once, atomically: in a private temporary folder, then renamed into
place, so a crash never leaves a half-built cache and two processes never see each other's
partial files."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path


def build_once(root: str | os.PathLike, done: str, build: Callable[[Path], None]) -> Path:
    """``root`` after ``build(tmp)`` has filled a temporary sibling folder and it has been
    renamed to ``root``; nothing is built when ``root/done`` (a file ``build`` writes) exists."""
    root = Path(root)
    if (root / done).exists():
        return root
    tmp = root.with_name(f"{root.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        build(tmp)
        if not (tmp / done).exists():
            raise RuntimeError(f"cache build of {root} did not write its marker {done!r}")
        try:
            os.replace(tmp, root)
        except OSError:  # another process finished the same build first
            if not (root / done).exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root
