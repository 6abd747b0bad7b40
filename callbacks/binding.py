"""Logs the binding gap (holozero.metrics.BindingGap) after every validation and test run
whose data module has a captioned validation set."""

from __future__ import annotations

import numpy as np
from lightning.pytorch.callbacks import Callback

from datamodules.sources import CaptionSource, fixed_derangement
from holozero.metrics import BindingGap


def captioned_source(trainer) -> CaptionSource | None:
    sources = getattr(trainer.datamodule, "val_sources", {}) or {}
    return next((s for s in sources.values() if isinstance(s, CaptionSource)), None)


def binding_gap(lm, source: CaptionSource, max_items: int = 512, batch_size: int = 64, seed: int = 0) -> dict:
    """Evaluate the gap over (up to ``max_items``) validation items: each item's caption is
    scored with its own conditioning and with the frame, the audio, or both taken from a
    fixed derangement donor (never itself)."""
    n = min(len(source), max_items)
    if n < 2:
        return {}
    items = np.linspace(0, len(source) - 1, n).round().astype(np.int64)
    donors = items[fixed_derangement(n, seed)]
    metric = BindingGap().to(lm.device)
    for lo in range(0, n, batch_size):
        it, dn = items[lo : lo + batch_size], donors[lo : lo + batch_size]
        matched, targets = lm.score(source.conditioned(it))
        swapped = {
            "both": lm.score(source.conditioned(it, frame_from=dn, audio_from=dn))[0],
            "audio": lm.score(source.conditioned(it, audio_from=dn))[0],
            "frame": lm.score(source.conditioned(it, frame_from=dn))[0],
        }
        metric.update(matched, swapped, targets)
    return {k: float(v) for k, v in metric.compute().items()} | {"binding_gap/items": n}


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
