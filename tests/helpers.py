"""Shared by the end-to-end tests: run the CLI in-process and read TensorBoard's own events."""

from __future__ import annotations

import glob
from pathlib import Path

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from holozero.cli import main


def run_cli(args: list[str]) -> None:
    main(args=args)


def scalars(version_dir: str | Path) -> dict[str, list[tuple[int, float]]]:
    events = glob.glob(str(Path(version_dir) / "events.out.tfevents.*"))
    assert events, f"no event file under {version_dir}"
    acc = EventAccumulator(str(version_dir))
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def write_docs(folder: Path, docs: list[np.ndarray]) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    for i, doc in enumerate(docs):
        (folder / f"doc{i:03d}.bin").write_bytes(np.asarray(doc, dtype=np.uint8).tobytes())
    return [str(folder)]
