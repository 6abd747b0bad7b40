"""CaptionedDataModule: captioned windows over a user dataset described by a metadata.jsonl."""

from __future__ import annotations

from .base import WindowDataModule
from .components import CaptionedComponent


class CaptionedDataModule(WindowDataModule):
    """Windows ``[frame] SEP [audio] SEP`` → ``[caption] EOS`` (see ``datamodules.captioned``).

    Args:
        metadata: path of the metadata.jsonl (None: the embedded digits + speech corpus).
        K: bytes per slot (linked to the door).
        frame_size, audio_bytes, caption_bytes, sample_rate: window layout.
        batch_size, val_bytes, seed, num_workers, cache_dir: as in TextDataModule.
        val_fraction, split_seed: split by item ``group`` (or by item), fixed by seed.
        shuffle_captions: pair training windows with another item's caption (binding null control).
        on_bad_item: ``error`` (default) names the file and reason; ``skip`` skips, counts
            and reports every skipped item.
    """

    def __init__(
        self,
        metadata: str | None = None,
        K: int = 8,
        frame_size: int = 16,
        audio_bytes: int = 1022,
        caption_bytes: int = 32,
        sample_rate: int = 8000,
        batch_size: int = 16,
        val_fraction: float = 0.1,
        split_seed: int = 0,
        val_bytes: int = 16384,
        shuffle_captions: bool = False,
        on_bad_item: str = "error",
        seed: int | None = None,
        num_workers: int = 0,
        cache_dir: str | None = None,
    ):
        super().__init__(K, batch_size, val_bytes, seed, num_workers, cache_dir, on_bad_item)
        self.save_hyperparameters()
        self.captioned = CaptionedComponent(
            frame_size, audio_bytes, caption_bytes, sample_rate, metadata, val_fraction, split_seed, shuffle_captions
        )

    def components(self) -> dict:
        return {"captioned": self.captioned}
