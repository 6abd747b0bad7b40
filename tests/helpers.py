"""Shared by the end-to-end tests: run the CLI in-process and read TensorBoard's own events."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
from lightning.pytorch.callbacks import Callback

from holozero.cli import main
from holozero.events import read_scalars as scalars  # noqa: F401 (used by the tests)


def run_cli(args: list[str]) -> None:
    main(args=args)


def write_docs(folder: Path, docs: list[np.ndarray]) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    for i, doc in enumerate(docs):
        (folder / f"doc{i:03d}.bin").write_bytes(np.asarray(doc, dtype=np.uint8).tobytes())
    return [str(folder)]


class KillAtStep(Callback):
    """SIGKILLs its own process at the start of training step ``step`` (tests of resume)."""

    def __init__(self, step: int):
        self.step = step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.global_step == self.step:
            os.kill(os.getpid(), signal.SIGKILL)


class CountSaves(Callback):
    """Counts checkpoint writes and records the file names (tests of checkpoint cadence)."""

    saves: list = []

    def on_save_checkpoint(self, trainer, pl_module, checkpoint):
        CountSaves.saves.append(trainer.global_step)
