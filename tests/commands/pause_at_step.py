"""A callback for the signal tests, imported by the ``holozero fit`` processes they start."""

from __future__ import annotations

import time
from pathlib import Path

from lightning.pytorch.callbacks import Callback


class PauseAtStep(Callback):
    """At the end of training step ``step``: writes ``marker`` and waits (up to a minute) for a
    signal to arrive, so the test's signal lands at a known step."""

    def __init__(self, step: int, marker: str):
        self.step, self.marker = step, marker

    def on_train_batch_end(self, trainer, lm, outputs, batch, batch_idx):
        if trainer.global_step == self.step:
            Path(self.marker).write_text("ready")
            deadline = time.monotonic() + 60
            status = next(c for c in trainer.callbacks if type(c).__name__ == "RunStatus")
            while not (trainer.received_sigterm or status.stop_requested) and time.monotonic() < deadline:
                time.sleep(0.01)
