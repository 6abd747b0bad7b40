"""Data components: each turns one kind of input into a (train, val) pair of window sources,
split by source item (document, recording, clip, caption group), never by window.

They are dataclasses so LightningCLI can take them as nested YAML
(``data.init_args.audio.context_bytes: 1024``). ``paths=None`` means the embedded corpus.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .audio import load_mulaw
from .byte_store import build_store, resolve_paths, split_documents
from .captioned import CaptionLayout, load_items, read_metadata
from .controls import CONTROLS, synthetic_corpus
from .corpus import default_text_corpus
from .errors import BadItemError
from .frames import video_frames
from .sources import CaptionSource, SequenceSource, StreamSource


@dataclass
class TextComponent:
    """Text (or any bytes) as documents. ``control``: None, ``zlib`` (the same documents
    compressed), ``uniform`` or ``markov`` (synthetic, known bpb floor; ``paths`` unused)."""

    paths: list[str] | None = None
    context_bytes: int = 512
    stream_bytes: int = 256
    val_fraction: float = 0.1
    split_seed: int = 0
    control: str | None = None

    def __post_init__(self):
        if self.control is not None and self.control not in CONTROLS:
            raise ValueError(f"control must be one of {CONTROLS} or null, got {self.control!r}")
        self.bpb_floor: float | None = None

    def _store(self, cache_dir):
        if self.control in ("uniform", "markov"):
            folder, self.bpb_floor = synthetic_corpus(self.control, seed=self.split_seed, cache_root=cache_dir)
            paths = [str(folder)]
        else:
            paths = list(self.paths) if self.paths else [str(default_text_corpus(cache_dir))]
        transform = "zlib" if self.control == "zlib" else "none"
        return build_store(paths, self.val_fraction, self.split_seed, cache_dir, transform)

    def prepare(self, cache_dir) -> None:
        self._store(cache_dir)

    def build(self, cache_dir, on_bad):
        self.store = self._store(cache_dir)
        make = lambda split: StreamSource(self.store.stream(split), self.context_bytes, self.stream_bytes)  # noqa: E731
        return make("train"), make("val")

    def describe(self) -> str:
        m = self.store.meta
        floor = f"; exact bpb floor {self.bpb_floor:.4f}" if self.bpb_floor is not None else ""
        return (
            f"{m['train']['documents']} train / {m['val']['documents']} val documents, "
            f"{m['train']['bytes']:,} / {m['val']['bytes']:,} bytes, control={self.control}{floor} "
            f"(cache {self.store.root})"
        )


def _split_items(items: list, groups: list, val_fraction: float, split_seed: int) -> tuple[list, list]:
    """Assign whole groups to train/val with a fixed seed."""
    names = sorted(set(map(str, groups)))
    train_g, val_g = split_documents(len(names), val_fraction, split_seed)
    val_names = {names[i] for i in val_g}
    train = [x for x, g in zip(items, groups, strict=True) if str(g) not in val_names]
    val = [x for x, g in zip(items, groups, strict=True) if str(g) in val_names]
    return train, val


@dataclass
class CaptionedComponent(CaptionLayout):
    """Captioned windows from a ``metadata.jsonl`` (None: the embedded demo corpus)."""

    metadata: str | None = None
    val_fraction: float = 0.1
    split_seed: int = 0
    shuffle_captions: bool = False

    def _metadata(self, cache_dir) -> str:
        if self.metadata:
            return self.metadata
        from .demo_corpus import demo_corpus

        return str(demo_corpus(cache_dir).metadata)

    def prepare(self, cache_dir) -> None:
        self._metadata(cache_dir)

    def build(self, cache_dir, on_bad):
        rows = read_metadata(self._metadata(cache_dir), on_bad)
        groups = [r.get("group", r["_where"]) for r in rows]
        train_rows, val_rows = _split_items(rows, groups, self.val_fraction, self.split_seed)
        self.train_items, self.val_items = load_items(train_rows, self, on_bad), load_items(val_rows, self, on_bad)

        def make(items, shuffle):
            labels = np.empty(len(items.labels), dtype=object)  # None: the item names no class
            labels[:] = [None if x is None else str(x) for x in items.labels]
            return CaptionSource(items.prefix, items.stream, labels, self.frame_len, shuffle_captions=shuffle)

        return make(self.train_items, self.shuffle_captions), make(self.val_items, False)

    def describe(self) -> str:
        t, v = self.train_items, self.val_items
        return (
            f"{len(t.prefix)} train / {len(v.prefix)} val captioned items (prefix {self.prefix_len} ids, "
            f"caption {self.caption_bytes}); captions cut {t.cut_captions + v.cut_captions}, audio PAD-completed "
            f"{t.padded_audio + v.padded_audio}; shuffle_captions={self.shuffle_captions}"
        )


def _sequence_split(paths, load, window: int, val_fraction, split_seed, on_bad, what: str):
    """Load every item, reject those shorter than a window, split by item."""
    files = resolve_paths(paths)
    items, names = [], []
    for f in files:
        try:
            data = load(f)
        except BadItemError as e:
            on_bad(e)
            continue
        if len(data) < window:
            on_bad(BadItemError(f, f"{what} has {len(data)} bytes, fewer than one window of {window}"))
            continue
        items.append(data)
        names.append(str(f))
    train, val = _split_items(items, names, val_fraction, split_seed)
    return train, val, len(files)


@dataclass
class AudioComponent:
    """μ-law audio continuation windows: prefix = earlier audio, stream = what follows."""

    paths: list[str] | None = None
    sample_rate: int = 8000
    context_bytes: int = 768
    stream_bytes: int = 256
    val_fraction: float = 0.1
    split_seed: int = 0

    def _paths(self, cache_dir) -> list[str]:
        if self.paths:
            return list(self.paths)
        from .demo_corpus import demo_corpus

        return [str(demo_corpus(cache_dir).speech)]

    def prepare(self, cache_dir) -> None:
        self._paths(cache_dir)

    def build(self, cache_dir, on_bad):
        window = self.context_bytes + self.stream_bytes
        train, val, self.n_files = _sequence_split(
            self._paths(cache_dir),
            lambda f: load_mulaw(f, self.sample_rate).numpy(),
            window,
            self.val_fraction,
            self.split_seed,
            on_bad,
            "recording",
        )
        self.counts = (len(train), len(val))
        make = lambda items: SequenceSource(items, self.context_bytes, self.stream_bytes, "audio")  # noqa: E731
        return make(train), make(val)

    def describe(self) -> str:
        return (
            f"{self.counts[0]} train / {self.counts[1]} val recordings of {self.n_files} files, "
            f"{self.sample_rate} Hz μ-law, windows {self.context_bytes}+{self.stream_bytes} bytes"
        )


@dataclass
class FramesComponent:
    """Grayscale frame continuation windows from videos sampled at ``fps``: prefix =
    ``context_frames`` frames, stream = the next ``stream_frames`` frames (row-major)."""

    paths: list[str] | None = None
    fps: float = 8.0
    frame_size: int = 16
    context_frames: int = 7
    stream_frames: int = 1
    val_fraction: float = 0.25
    split_seed: int = 0

    def _paths(self, cache_dir) -> list[str]:
        if self.paths:
            return list(self.paths)
        from .demo_corpus import demo_corpus

        return [str(demo_corpus(cache_dir).video)]

    def prepare(self, cache_dir) -> None:
        self._paths(cache_dir)

    def build(self, cache_dir, on_bad):
        frame = self.frame_size * self.frame_size
        window = (self.context_frames + self.stream_frames) * frame
        load = lambda f: video_frames(f, self.fps, self.frame_size).numpy().reshape(-1)  # noqa: E731
        train, val, self.n_files = _sequence_split(
            self._paths(cache_dir), load, window, self.val_fraction, self.split_seed, on_bad, "video"
        )
        self.counts = (len(train), len(val))
        make = lambda items: SequenceSource(  # noqa: E731
            items, self.context_frames * frame, self.stream_frames * frame, "frame", align=frame
        )
        return make(train), make(val)

    def describe(self) -> str:
        return (
            f"{self.counts[0]} train / {self.counts[1]} val clips of {self.n_files} files at {self.fps} fps, "
            f"{self.frame_size}×{self.frame_size} gray, {self.context_frames}+{self.stream_frames} frames a window"
        )
