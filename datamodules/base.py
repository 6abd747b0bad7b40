"""What every holozero data module shares: seeded training batches drawn from one or more
window sources in set proportions, and one fixed validation loader per source.

Subclasses say which components they hold (``components()``); a component turns its
inputs into a (train, val) pair of window sources (see ``components.py``).
"""

from __future__ import annotations

import lightning as L
import numpy as np
import torch
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn

from .errors import BadItemError
from .windows import ResumableLoader, SeededBatches, fixed_loader

BAD_ITEM_POLICIES = ("error", "skip")


class BadItems:
    """``on_bad_item``: ``error`` raises the first BadItemError (it names the file and the
    reason); ``skip`` records it, and every skipped item is reported with its reason."""

    def __init__(self, policy: str):
        if policy not in BAD_ITEM_POLICIES:
            raise ValueError(f"on_bad_item must be one of {BAD_ITEM_POLICIES}, got {policy!r}")
        self.policy, self.skipped = policy, []

    def __call__(self, error: BadItemError) -> None:
        if self.policy == "error":
            raise error
        self.skipped.append((error.path, error.reason))


class WindowDataModule(L.LightningDataModule):
    """Arguments every data module shares (the presets pass them through ``**kwargs``):

    K: bytes per slot (linked to the door); batch_size: windows per batch; val_bytes:
    validation byte budget per component (the same windows whatever the batch size);
    on_bad_item: ``error`` (default) names the file and the reason, ``skip`` skips, counts
    and reports every skipped item; seed: training window order (None takes the run's
    ``--seed_everything``); num_workers: DataLoader workers; cache_dir: byte stores and the
    embedded corpus (default ``~/.cache/holozero`` or ``$HOLOZERO_CACHE``).
    """

    def __init__(
        self,
        K: int = 8,
        batch_size: int = 16,
        val_bytes: int = 16384,
        on_bad_item: str = "error",
        seed: int | None = None,
        num_workers: int = 0,
        cache_dir: str | None = None,
    ):
        super().__init__()
        if K < 1 or batch_size < 1 or val_bytes < 1:
            raise ValueError(f"K, batch_size and val_bytes must be ≥ 1, got {K}, {batch_size}, {val_bytes}")
        self.bad_items = BadItems(on_bad_item)
        self.K, self.batch_size, self.val_bytes, self.seed = K, batch_size, val_bytes, seed
        self.num_workers, self.cache_dir = num_workers, cache_dir
        self.train_sources: dict = {}
        self.val_sources: dict = {}
        self.save_hyperparameters(ignore=["text", "captioned", "audio", "frames"])

    # --- to define ---------------------------------------------------------------------
    def components(self) -> dict:
        """name -> component (``prepare(cache_dir)``, ``build(cache_dir, bad_items)``)."""
        raise NotImplementedError

    def proportions(self) -> dict[str, float]:
        return {name: 1.0 for name in self.components()}

    # --- shared ------------------------------------------------------------------------
    def prepare_data(self) -> None:
        for component in self.components().values():
            component.prepare(self.cache_dir)

    def setup(self, stage: str | None = None) -> None:
        if self.train_sources:
            return
        for name, component in self.components().items():
            self.train_sources[name], self.val_sources[name] = component.build(self.cache_dir, self.bad_items)
            rank_zero_info(f"holozero: {name}: {component.describe()}")
        if self.bad_items.skipped:
            lines = "\n".join(f"  {path}: {reason}" for path, reason in self.bad_items.skipped)
            rank_zero_warn(f"holozero: skipped {len(self.bad_items.skipped)} bad item(s) (on_bad_item=skip):\n{lines}")

    @property
    def text_layout(self) -> tuple[int, int] | None:
        """(context_bytes, stream_bytes) of the text windows, the layout generation uses."""
        text = self.components().get("text")
        return (text.context_bytes, text.stream_bytes) if text is not None else None

    @property
    def skipped_items(self) -> int:
        return len(self.bad_items.skipped)

    @property
    def batch_shapes(self) -> list[tuple[tuple[int, int], int, float]]:
        """[((B, window), stream_len, share of batches)] per source, for FLOP counting."""
        weights = {n: w for n, w in self.proportions().items() if w > 0 and n in self.train_sources}
        total = sum(weights.values())
        shapes = []
        for name, w in weights.items():
            batch = self.train_sources[name].sample(np.random.default_rng(0), 1)
            shapes.append(((self.batch_size, batch["ids"].shape[1]), batch["segment"].shape[1], w / total))
        return shapes

    def train_dataloader(self) -> ResumableLoader:
        seed = self.seed if self.seed is not None else torch.initial_seed()
        trainer = self.trainer
        dataset = SeededBatches(
            self.train_sources,
            self.proportions(),
            self.batch_size,
            seed,
            rank=trainer.global_rank if trainer else 0,
            world_size=trainer.world_size if trainer else 1,
        )
        progress = (lambda: trainer.fit_loop.epoch_loop.batch_progress.total.completed) if trainer else None
        return ResumableLoader(dataset, num_workers=self.num_workers, progress=progress)

    def _fixed(self):
        trainer = self.trainer
        rank, world = (trainer.global_rank, trainer.world_size) if trainer else (0, 1)
        loaders = [fixed_loader(s, self.val_bytes, self.batch_size, rank, world) for s in self.val_sources.values()]
        return loaders[0] if len(loaders) == 1 else loaders

    def val_dataloader(self):
        return self._fixed()

    def test_dataloader(self):
        return self._fixed()

    def predict_dataloader(self):
        return self._fixed()
