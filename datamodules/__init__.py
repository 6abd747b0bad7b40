"""LightningDataModules that turn text, audio, frames and captioned items into byte windows."""

from .text import TextDataModule

__all__ = ["TextDataModule"]
