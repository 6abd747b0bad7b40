"""TextDataModule: byte windows over any files (UTF-8 text in any language, or any bytes)."""

from __future__ import annotations

import lightning as L
import torch
from lightning.pytorch.utilities import rank_zero_info
from torch.utils.data import DataLoader

from holozero.metrics import SEGMENTS

from .byte_store import SplitStore, build_store
from .corpus import default_text_corpus
from .windows import FixedWindows, ResumableLoader, TrainWindows


class TextDataModule(L.LightningDataModule):
    """Random windows of ``context_bytes`` (packed prefix) + ``stream_bytes`` (scored).

    Args:
        paths: files, folders or glob patterns; each file is one document. None: the
            embedded English + Korean corpus (built on first use).
        K: bytes per slot (linked to the door); ``context_bytes`` must be a multiple of it.
        context_bytes, stream_bytes: window layout.
        batch_size: windows per training batch (and per validation batch).
        val_fraction, split_seed: document-level train/val split, fixed by ``split_seed``.
        val_bytes: validation byte budget — the same windows whatever the batch size.
        seed: training window order; None takes the run's seed (``--seed_everything``).
        num_workers: DataLoader workers.
        cache_dir: where memory-mapped streams are cached (default ``~/.cache/holozero``
            or ``$HOLOZERO_CACHE``).
    """

    def __init__(
        self,
        paths: list[str] | None = None,
        K: int = 8,
        context_bytes: int = 512,
        stream_bytes: int = 256,
        batch_size: int = 16,
        val_fraction: float = 0.1,
        split_seed: int = 0,
        val_bytes: int = 65536,
        seed: int | None = None,
        num_workers: int = 0,
        cache_dir: str | None = None,
    ):
        super().__init__()
        if context_bytes < 1 or stream_bytes < 1:
            raise ValueError(f"context_bytes and stream_bytes must be ≥ 1, got {context_bytes}, {stream_bytes}")
        if context_bytes % K:
            raise ValueError(
                f"context_bytes={context_bytes} is not a multiple of K={K}: the last slot would be PAD-filled "
                f"in every window; use {context_bytes - context_bytes % K} or {context_bytes + K - context_bytes % K}"
            )
        self.save_hyperparameters()
        self.store: SplitStore | None = None

    @property
    def window(self) -> int:
        return self.hparams.context_bytes + self.hparams.stream_bytes

    @property
    def batch_shape(self) -> tuple[tuple[int, int], int]:
        """((B, window), stream_bytes) of a training batch, for FLOP counting."""
        return (self.hparams.batch_size, self.window), self.hparams.stream_bytes

    def _paths(self) -> list[str]:
        if self.hparams.paths:
            return list(self.hparams.paths)
        return [str(default_text_corpus(self.hparams.cache_dir))]

    def prepare_data(self) -> None:
        build_store(self._paths(), self.hparams.val_fraction, self.hparams.split_seed, self.hparams.cache_dir)

    def setup(self, stage: str | None = None) -> None:
        if self.store is None:
            h = self.hparams
            self.store = build_store(self._paths(), h.val_fraction, h.split_seed, h.cache_dir)
            m = self.store.meta
            rank_zero_info(
                f"holozero: text data {m['train']['documents']} train / {m['val']['documents']} val documents, "
                f"{m['train']['bytes']:,} / {m['val']['bytes']:,} bytes (cache {self.store.root})"
            )
            empty = m["train"]["empty_documents"] + m["val"]["empty_documents"]
            if empty:
                rank_zero_info(f"holozero: {len(empty)} empty document(s), e.g. {empty[0]}")

    def train_dataloader(self) -> DataLoader:
        h = self.hparams
        seed = h.seed if h.seed is not None else torch.initial_seed()
        trainer = self.trainer
        dataset = TrainWindows(
            self.store.stream("train"),
            h.batch_size,
            self.window,
            h.stream_bytes,
            seed,
            rank=trainer.global_rank if trainer else 0,
            world_size=trainer.world_size if trainer else 1,
            segment=SEGMENTS.index("text"),
        )
        return ResumableLoader(dataset, num_workers=h.num_workers)

    def _fixed(self) -> DataLoader:
        h = self.hparams
        dataset = FixedWindows(
            self.store.stream("val"), self.window, h.stream_bytes, h.val_bytes, segment=SEGMENTS.index("text")
        )
        return DataLoader(dataset, batch_size=h.batch_size, shuffle=False, num_workers=h.num_workers)

    def val_dataloader(self) -> DataLoader:
        return self._fixed()

    def test_dataloader(self) -> DataLoader:
        return self._fixed()

    def predict_dataloader(self) -> DataLoader:
        return self._fixed()
