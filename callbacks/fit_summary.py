"""The end of ``holozero fit`` in a few lines: best and last validation bpb per segment, the
binding gap (the headline, both modalities swapped, and each modality's own: data with no item
that has both still shows a gap per modality), steps, bytes seen, wall time, and where the
checkpoints are."""

from __future__ import annotations

import math
import time

from lightning.pytorch.callbacks import Callback
from lightning.pytorch.utilities import rank_zero_info

TRACKED = (
    "bpb", "text_bpb", "caption_bpb", "audio_bpb", "frame_bpb", "binding_gap", "binding_gap/audio", "binding_gap/frame",
)  # fmt: skip
WIDTH = max(map(len, TRACKED))


def _better(name: str, value: float, best: float) -> bool:
    return value > best if name.startswith("binding_gap") else value < best  # the largest gap, the smallest bpb


class FitSummary(Callback):
    def __init__(self):
        self.best: dict[str, tuple[float, int]] = {}
        self.last: dict[str, tuple[float, int]] = {}
        self.bytes_seen = 0
        self.t0 = 0.0

    def on_fit_start(self, trainer, lm) -> None:
        self.t0 = time.perf_counter()

    def on_train_batch_end(self, trainer, lm, outputs, batch, batch_idx) -> None:
        self.bytes_seen += batch["ids"].numel() * trainer.world_size  # every input byte, prefix + stream

    def on_validation_end(self, trainer, lm) -> None:
        if trainer.sanity_checking:
            return
        for name in TRACKED:
            value = trainer.callback_metrics.get(f"val/{name}")
            if value is None or not math.isfinite(float(value)):
                continue
            value, step = float(value), trainer.global_step
            self.last[name] = (value, step)
            if name not in self.best or _better(name, value, self.best[name][0]):
                self.best[name] = (value, step)

    def on_fit_end(self, trainer, lm) -> None:
        rank_zero_info(self.text(trainer))

    def text(self, trainer) -> str:
        minutes = (time.perf_counter() - self.t0) / 60
        lines = [
            f"holozero fit: {trainer.global_step} steps, {self.bytes_seen:,} training bytes seen, {minutes:.1f} min",
            f"  {'val':<{WIDTH}}  best (step)        last (step)",
        ]
        for name in TRACKED:
            if name in self.last:
                (b, bs), (v, vs) = self.best[name], self.last[name]
                lines.append(f"  {name:<{WIDTH}} {b:>8.4f} ({bs:>6})   {v:>8.4f} ({vs:>6})")
        ckpt = trainer.checkpoint_callback
        if ckpt is not None and ckpt.dirpath:
            lines.append(f"  checkpoints: {ckpt.dirpath} (best {ckpt.best_model_path or '-'}; last.ckpt)")
        return "\n".join(lines)

    def state_dict(self) -> dict:
        return {"best": self.best, "last": self.last, "bytes_seen": self.bytes_seen}

    def load_state_dict(self, state: dict) -> None:
        self.best, self.last, self.bytes_seen = state["best"], state["last"], state["bytes_seen"]
