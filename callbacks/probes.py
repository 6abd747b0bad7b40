"""The hard-negative probe suite (holozero.probes), run every N validation rounds and in
``holozero test``: logs to TensorBoard as ``<stage>/probe/<name>/<figure>`` and writes a JSON
file next to the checkpoints."""

from __future__ import annotations

import json
import math
from pathlib import Path

from lightning.pytorch.callbacks import Callback
from lightning.pytorch.utilities import rank_zero_info, rank_zero_only

from holozero.checkpoints import checkpoint_step
from holozero.probes import format_table, run_probes


class ProbeSuite(Callback):
    """Args: every_n_val (run after every n-th validation; 0 = only at test), max_items,
    candidates (retrieval), min_items (fewer valid items -> insufficient), seed."""

    def __init__(
        self, every_n_val: int = 3, max_items: int = 64, candidates: int = 8, min_items: int = 20, seed: int = 0
    ):
        self.every_n_val, self.max_items, self.candidates = every_n_val, max_items, candidates
        self.min_items, self.seed, self.rounds = min_items, seed, 0
        self.last: dict = {}

    def _run(self, trainer, lm, stage: str) -> None:
        sources = getattr(trainer.datamodule, f"{stage}_sources", {}) or {}  # val in training, test in test
        with trainer.precision_plugin.forward_context():  # the stage's precision, as its bpb (test: float32)
            self.last = run_probes(lm, sources, self.max_items, self.candidates, self.min_items, self.seed)
        for name, r in self.last.items():
            if r["status"] == "ok":
                for key, value in r.items():
                    if isinstance(value, float) and math.isfinite(value):
                        lm.log(f"{stage}/probe/{name}/{key}", value)
        self._write(trainer, stage)

    @rank_zero_only
    def _write(self, trainer, stage: str) -> None:
        scored = getattr(trainer, "ckpt_path", None) if stage == "test" else None
        if scored:  # beside the checkpoint that was scored, named with its step
            folder, step = Path(scored).parent / "probes", checkpoint_step(scored)
        else:
            ckpt = trainer.checkpoint_callback
            folder = Path(ckpt.dirpath if ckpt is not None and ckpt.dirpath else trainer.log_dir or ".") / "probes"
            step = trainer.global_step
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{stage}-step{step}.json"
        path.write_text(json.dumps({"stage": stage, "step": step, "checkpoint": scored, "probes": self.last}, indent=1))
        if stage == "test":
            rank_zero_info(f"holozero probes (step {step}, {path}):\n{format_table(self.last)}")

    def on_validation_epoch_end(self, trainer, lm) -> None:
        if trainer.sanity_checking or self.every_n_val <= 0:
            return
        self.rounds += 1
        if self.rounds % self.every_n_val == 0:
            self._run(trainer, lm, "val")

    def on_test_epoch_end(self, trainer, lm) -> None:
        self._run(trainer, lm, "test")
