"""LightningDataModules that turn text, audio, frames and captioned items into byte windows."""

from .captioned_dm import CaptionedDataModule
from .mixture import MixtureDataModule
from .text import TextDataModule

__all__ = ["CaptionedDataModule", "MixtureDataModule", "TextDataModule"]
