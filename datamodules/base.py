"""What every holozero data module shares: seeded training batches drawn from one or more
window sources in set proportions, one fixed validation loader per source (val selects
checkpoints) and one fixed test loader per source (``holozero test`` scores test, never val).

Subclasses say which components they hold (``components()``); a component turns its inputs
into window sources for the train, val and test splits (see ``components.py``). The
components of one module share one ``SourceSplits``, so no recording, image or clip is in
two splits even when two components read it. Every prefix is a whole number of K-byte
slots, or the module refuses to start (``round_prefix: true`` rounds instead, and says so).
"""

from __future__ import annotations

import lightning as L
import numpy as np
import torch
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn

from .errors import BadItemError
from .splits import SPLITS, SourceSplits
from .summary import format_summary
from .windows import ResumableLoader, SeededBatches, fixed_loader

BAD_ITEM_POLICIES = ("error", "skip")
BUILD_ORDER = ("captioned", "audio", "frames", "text")  # items tying several sources are split first


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
    embedded corpus (default ``~/.cache/holozero`` or ``$HOLOZERO_CACHE``); round_prefix:
    when a component's prefix is not a multiple of K, round it to the nearest multiple
    (ties down; a captioned prefix changes its audio bytes) and log it, instead of refusing
    — the way a sweep over K keeps the same context bytes.
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
        round_prefix: bool = False,
    ):
        super().__init__()
        if K < 1 or batch_size < 1 or val_bytes < 1:
            raise ValueError(f"K, batch_size and val_bytes must be ≥ 1, got {K}, {batch_size}, {val_bytes}")
        self.bad_items = BadItems(on_bad_item)
        self.K, self.batch_size, self.val_bytes, self.seed = K, batch_size, val_bytes, seed
        self.num_workers, self.cache_dir, self.round_prefix = num_workers, cache_dir, round_prefix
        self.train_sources: dict = {}
        self.val_sources: dict = {}
        self.test_sources: dict = {}
        self.prefix_changes: list[str] = []
        self.summary: dict = {}
        self.save_hyperparameters(ignore=["text", "captioned", "audio", "frames"])

    def check_prefixes(self) -> None:
        """Every component's prefix must fill whole K-byte slots (no window may carry a PAD
        slot the user did not ask for). Subclasses call this once their components exist."""
        K = self.K
        for name, component in self.components().items():
            n = component.prefix_len
            if n % K == 0:
                continue
            down, up = n - n % K, n - n % K + K
            if not self.round_prefix:
                valid = f"{down} or {up}" if down > 0 else f"{up}"
                raise ValueError(
                    f"{name}: prefix of {n} bytes is not a multiple of K={K} (every window would carry a PAD "
                    f"slot); the nearest valid lengths are {valid}, or set data round_prefix: true"
                )
            target = down if (n - down <= up - n and down > 0) else up
            component.set_prefix_len(target)
            self.prefix_changes.append(f"{name}: prefix {n} -> {target} bytes (K={K}, round_prefix)")
            rank_zero_info(f"holozero: {self.prefix_changes[-1]}")

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
        splits = SourceSplits()
        parts = self.components()
        built = {}
        for name in sorted(parts, key=lambda n: BUILD_ORDER.index(n) if n in BUILD_ORDER else len(BUILD_ORDER)):
            built[name] = parts[name].build(self.cache_dir, self.bad_items, splits)
            rank_zero_info(f"holozero: {name}: {parts[name].describe()}")
        for name in parts:  # the user's order (validation loaders follow it), not the build order
            self.train_sources[name], self.val_sources[name], self.test_sources[name] = (built[name][s] for s in SPLITS)
        self.summary = self.dataset_summary()
        rank_zero_info("holozero: dataset summary\n" + format_summary(self.summary))
        for component in parts.values():  # what a user should know of their data: one line each
            for line in getattr(component, "data_warnings", lambda K: [])(self.K):
                rank_zero_info(f"holozero: warning: {line}")
        if self.bad_items.skipped:
            lines = "\n".join(f"  {path}: {reason}" for path, reason in self.bad_items.skipped)
            rank_zero_warn(f"holozero: skipped {len(self.bad_items.skipped)} bad item(s) (on_bad_item=skip):\n{lines}")

    def dataset_summary(self) -> dict:
        """{modality: {split: {figure: value}}}: items, bytes, what was cut, windows."""
        out = {}
        for name, component in self.components().items():
            rows = component.summary()
            for split, sources in zip(SPLITS, (self.train_sources, self.val_sources, self.test_sources), strict=True):
                source = sources[name]
                rows[split]["windows"] = source.distinct_windows()
                if split != "train":
                    rows[split]["windows scored"] = source.fixed_count(self.val_bytes)
            out[name] = rows
        out["skipped items"] = len(self.bad_items.skipped)
        if self.prefix_changes:
            out["prefix changes"] = list(self.prefix_changes)
        return out

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

    def _fixed(self, sources: dict):
        trainer = self.trainer
        rank, world = (trainer.global_rank, trainer.world_size) if trainer else (0, 1)
        loaders = [fixed_loader(s, self.val_bytes, self.batch_size, rank, world) for s in sources.values()]
        return loaders[0] if len(loaders) == 1 else loaders

    def sources(self, split: str) -> dict:
        """The window sources of ``split`` (train, val or test), one per component."""
        return {"train": self.train_sources, "val": self.val_sources, "test": self.test_sources}[split]

    def val_dataloader(self):
        return self._fixed(self.val_sources)

    def test_dataloader(self):
        return self._fixed(self.test_sources)

    def predict_dataloader(self):
        return self._fixed(self.test_sources)
