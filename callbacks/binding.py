"""Logs the binding gap (holozero.binding) after every validation and test run whose data
module has a captioned validation set."""

from __future__ import annotations

from lightning.pytorch.callbacks import Callback

from holozero.binding import binding_gap
from holozero.protocols import CaptionWindows


def captioned_source(trainer) -> CaptionWindows | None:
    sources = getattr(trainer.datamodule, "val_sources", {}) or {}
    return next((s for s in sources.values() if isinstance(s, CaptionWindows)), None)


class BindingGapMonitor(Callback):
    """``val/binding_gap``, ``val/binding_gap/<variant>`` and their item intervals."""

    def __init__(self, max_items: int = 512, seed: int = 0):
        self.max_items, self.seed = max_items, seed

    def _run(self, trainer, lm, stage: str) -> None:
        source = captioned_source(trainer)
        if source is None or trainer.sanity_checking:
            return
        values = binding_gap(lm, source, self.max_items, seed=self.seed)
        for key, value in values.items():
            lm.log(f"{stage}/{key}", float(value), sync_dist=False)

    def on_validation_epoch_end(self, trainer, lm) -> None:
        self._run(trainer, lm, "val")

    def on_test_epoch_end(self, trainer, lm) -> None:
        self._run(trainer, lm, "test")
