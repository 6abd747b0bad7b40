"""CaptionedDataModule: captioned windows over a user dataset described by a metadata.jsonl."""

from __future__ import annotations

from .base import WindowDataModule
from .components import CaptionedComponent


class CaptionedDataModule(WindowDataModule):
    """Windows ``[frame] SEP [audio] SEP`` → ``[caption] EOS`` (see ``datamodules.captioned``)
    from ``captioned.metadata`` (None: the embedded corpus); see ``CaptionedComponent`` for
    the layout, split and control settings and ``WindowDataModule`` for the rest."""

    def __init__(self, captioned: CaptionedComponent | None = None, **kwargs):
        super().__init__(**kwargs)
        self.captioned = captioned if captioned is not None else CaptionedComponent()
        self.check_prefixes()

    def components(self) -> dict:
        return {"captioned": self.captioned}
