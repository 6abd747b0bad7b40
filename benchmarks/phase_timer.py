"""A Lightning callback that times the phases of a ``holozero fit`` (used by bench_quickstart.py).

Wall-clock seconds (``time.time()``, so the parent process can line them up with its own
clock) of: data ready (the ``setup`` hook runs right after the data module's setup), every
training batch (on_train_batch_start → end: forward, backward, clipping, AdamW), every
validation pass (on_validation_start → end) and its batches alone (the rest of a pass is
its epoch-end work: metrics, probes, binding gap, attribution; each other callback's
``on_validation_epoch_end`` is timed on its own), and the end of the fit. Written as JSON to
``$PHASE_TIMER_OUT`` at the end of the fit.
"""

import functools
import json
import os
import time
from collections import defaultdict

from lightning.pytorch.callbacks import Callback


class PhaseTimer(Callback):
    def __init__(self):
        self.t = {"setup_done": None, "train_start": None, "fit_end": None}
        self.train_batches, self.val_passes, self.val_batches = [], [], []
        self.epoch_end = defaultdict(float)  # callback class -> seconds in on_validation_epoch_end
        self._t0 = self._v0 = self._vb0 = 0.0

    def setup(self, trainer, pl_module, stage) -> None:
        self.t["setup_done"] = time.time()
        for cb in trainer.callbacks:  # time every other callback's validation epoch-end work
            if cb is not self:
                cb.on_validation_epoch_end = self._timed(type(cb).__name__, cb.on_validation_epoch_end)

    def _timed(self, name: str, hook):
        @functools.wraps(hook)
        def wrapper(*args, **kwargs):
            t0 = time.time()
            try:
                return hook(*args, **kwargs)
            finally:
                self.epoch_end[name] += time.time() - t0

        return wrapper

    def on_train_start(self, trainer, pl_module) -> None:
        self.t["train_start"] = time.time()

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self._t0 = time.time()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.train_batches.append((tuple(batch["ids"].shape), time.time() - self._t0))

    def on_validation_start(self, trainer, pl_module) -> None:
        self._v0, self._vb = time.time(), 0.0

    def on_validation_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0) -> None:
        self._vb0 = time.time()

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        self._vb += time.time() - self._vb0

    def on_validation_end(self, trainer, pl_module) -> None:
        self.val_passes.append({"sanity": trainer.sanity_checking, "s": time.time() - self._v0, "batches_s": self._vb})

    def on_fit_end(self, trainer, pl_module) -> None:
        self.t["fit_end"] = time.time()
        out = os.environ.get("PHASE_TIMER_OUT")
        if out:
            with open(out, "w") as f:
                json.dump(
                    {"t": self.t, "train": self.train_batches, "val": self.val_passes, "epoch_end": self.epoch_end}, f
                )
