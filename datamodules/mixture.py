"""MixtureDataModule: text, captioned, audio and frame windows in set proportions, with one
validation set per modality (so val/text_bpb, val/caption_bpb, val/audio_bpb and
val/frame_bpb are all logged). With no arguments it trains on the embedded 3-modality
corpus (English + Korean text; digit images with spoken captions; real and moving-digit video clips)."""

from __future__ import annotations

from .base import WindowDataModule
from .components import AudioComponent, CaptionedComponent, FramesComponent, TextComponent


class MixtureDataModule(WindowDataModule):
    """Each training batch comes from one component, chosen by ``proportions`` (seeded), so
    every batch has one window layout.

    Args:
        text, captioned, audio, frames: the components' settings (nested YAML; null takes
            the defaults, which use the embedded corpus).
        modalities: which components take part.
        proportions: share of training batches per component.
        **kwargs: K, batch_size, val_bytes (per component), on_bad_item, seed, num_workers,
            cache_dir (see ``WindowDataModule``).
    """

    def __init__(
        self,
        text: TextComponent | None = None,
        captioned: CaptionedComponent | None = None,
        audio: AudioComponent | None = None,
        frames: FramesComponent | None = None,
        modalities: list[str] | None = None,
        proportions: dict[str, float] | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        given = {
            "text": (text, TextComponent),
            "captioned": (captioned, CaptionedComponent),
            "audio": (audio, AudioComponent),
            "frames": (frames, FramesComponent),
        }
        chosen = list(given) if modalities is None else list(modalities)
        unknown = set(chosen) - set(given)
        if unknown or not chosen:
            raise ValueError(f"modalities must be a non-empty subset of {list(given)}, got {chosen}")
        self.parts = {k: (given[k][0] if given[k][0] is not None else given[k][1]()) for k in chosen}
        default = {"text": 0.4, "captioned": 0.3, "audio": 0.15, "frames": 0.15}
        self._proportions = dict(proportions) if proportions else {k: default[k] for k in self.parts}
        unknown = set(self._proportions) - set(self.parts)
        if unknown:
            raise ValueError(f"proportions name components that are not in the mixture: {sorted(unknown)}")
        self.check_prefixes()

    def components(self) -> dict:
        return self.parts

    def proportions(self) -> dict[str, float]:
        return self._proportions
