"""Logs the binding gap (holozero.binding) after every validation run (on the val split) and
test run (on the test split) whose data module has captioned windows."""

from __future__ import annotations

from lightning.pytorch.callbacks import Callback
from lightning.pytorch.utilities import rank_zero_info

from holozero.binding import binding_gap
from holozero.protocols import CaptionWindows


def captioned_source(trainer, split: str = "val") -> CaptionWindows | None:
    sources = getattr(trainer.datamodule, f"{split}_sources", {}) or {}
    return next((s for s in sources.values() if isinstance(s, CaptionWindows)), None)


class BindingGapMonitor(Callback):
    """``<stage>/binding_gap``, ``<stage>/binding_gap/<variant>`` (pooled by bytes) with its own
    95% interval over items (``/low``, ``/high``), the per-item mean with its own
    (``/item_mean``, ``/item_mean/low``, ``/item_mean/high``) and the item count (``/items``).
    Items are sharded over processes (each scored once); a variant over fewer than ``min_items``
    items is reported as insufficient, one no item can take as n/a — never as a number."""

    def __init__(self, max_items: int = 512, seed: int = 0, min_items: int = 20):
        self.max_items, self.seed, self.min_items = max_items, seed, min_items
        self.last: dict = {}

    def _run(self, trainer, lm, stage: str) -> None:
        source = captioned_source(trainer, stage)
        if source is None or trainer.sanity_checking:
            return
        with trainer.precision_plugin.forward_context():  # the stage's precision, as its bpb (test: float32)
            self.last = binding_gap(
                lm, source, self.max_items, seed=self.seed, min_items=self.min_items,
                rank=trainer.global_rank, world_size=trainer.world_size,
            )  # fmt: skip
        for key, value in self.last["values"].items():
            lm.log(f"{stage}/{key}", value, sync_dist=False)  # already summed over processes
        missing = {v: s for v, s in self.last["status"].items() if s != "ok"}
        if missing:
            told = ", ".join(f"{v}: {s} ({self.last['items'][v]} items)" for v, s in missing.items())
            rank_zero_info(f"holozero: {stage} binding gap not reported for {told}")

    def on_validation_epoch_end(self, trainer, lm) -> None:
        self._run(trainer, lm, "val")

    def on_test_epoch_end(self, trainer, lm) -> None:
        self._run(trainer, lm, "test")
