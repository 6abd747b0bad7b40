"""Shared by the end-to-end tests: run the CLI in-process and read TensorBoard's own events."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from holozero.cli import main
from holozero.events import read_scalars as scalars  # noqa: F401 (used by the tests)


def run_cli(args: list[str]) -> None:
    main(args=args)


def write_docs(folder: Path, docs: list[np.ndarray]) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    for i, doc in enumerate(docs):
        (folder / f"doc{i:03d}.bin").write_bytes(np.asarray(doc, dtype=np.uint8).tobytes())
    return [str(folder)]
