"""TextDataModule: byte windows over any files (UTF-8 text in any language, or any bytes)."""

from __future__ import annotations

from .base import WindowDataModule
from .components import TextComponent


class TextDataModule(WindowDataModule):
    """Random windows of ``text.context_bytes`` (packed prefix) + ``text.stream_bytes`` (scored)
    over the documents of ``text.paths`` (None: the embedded English + Korean corpus); see
    ``TextComponent`` for the text settings and ``WindowDataModule`` for the rest
    (K, batch_size, val_bytes, on_bad_item, seed, num_workers, cache_dir)."""

    def __init__(self, text: TextComponent | None = None, **kwargs):
        super().__init__(**kwargs)
        self.text = text if text is not None else TextComponent()
        self.check_prefixes()

    def components(self) -> dict:
        return {"text": self.text}
