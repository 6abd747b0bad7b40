"""TextDataModule: byte windows over any files (UTF-8 text in any language, or any bytes)."""

from __future__ import annotations

from .base import WindowDataModule
from .components import TextComponent


class TextDataModule(WindowDataModule):
    """Random windows of ``context_bytes`` (packed prefix) + ``stream_bytes`` (scored).

    Args:
        paths: files, folders or glob patterns; each file is one document. None: the
            embedded English + Korean corpus (built on first use).
        K: bytes per slot (linked to the door); ``context_bytes`` must be a multiple of it.
        context_bytes, stream_bytes: window layout.
        batch_size: windows per training (and validation) batch.
        val_fraction, split_seed: document-level train/val split, fixed by ``split_seed``.
        val_bytes: validation byte budget — the same windows whatever the batch size.
        control: None, ``zlib`` (compressed documents), ``uniform`` or ``markov`` (synthetic
            sources with a known bpb floor).
        seed: training window order; None takes the run's seed (``--seed_everything``).
        num_workers: DataLoader workers.
        cache_dir: cache for byte stores and corpora (default ``~/.cache/holozero`` or
            ``$HOLOZERO_CACHE``).
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
        control: str | None = None,
        seed: int | None = None,
        num_workers: int = 0,
        cache_dir: str | None = None,
    ):
        super().__init__(K, batch_size, val_bytes, seed, num_workers, cache_dir, on_bad_item="error")
        if context_bytes < 1 or stream_bytes < 1:
            raise ValueError(f"context_bytes and stream_bytes must be ≥ 1, got {context_bytes}, {stream_bytes}")
        if context_bytes % K:
            raise ValueError(
                f"context_bytes={context_bytes} is not a multiple of K={K}: the last slot would be PAD-filled "
                f"in every window; use {context_bytes - context_bytes % K} or {context_bytes + K - context_bytes % K}"
            )
        self.save_hyperparameters()
        self.text = TextComponent(paths, context_bytes, stream_bytes, val_fraction, split_seed, control)

    def components(self) -> dict:
        return {"text": self.text}
