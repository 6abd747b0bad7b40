"""Data components: each turns one kind of input into window sources for the train, val and
test splits, split by source item (document, recording, image, clip), never by window.

They are dataclasses so LightningCLI can take them as nested YAML
(``data.init_args.audio.context_bytes: 1024``). ``paths=None`` means the embedded corpus.
Every component reports its prefix length (so the data module can check it against K) and
a summary of what it kept and cut per split.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .audio import audio_offset, load_mulaw
from .byte_store import build_store, default_cache_root, readable_documents, resolve_paths
from .captioned import CaptionLayout, load_items_cached, read_metadata
from .controls import CONTROLS, synthetic_corpus
from .corpus import default_text_corpus
from .errors import BadItemError
from .frames import thumbnails, video_frames
from .sources import CaptionSource, SequenceSource, StreamSource
from .splits import SPLITS, SourceSplits, near_duplicate_groups
from .window_fit import captioned_warnings

NAMED_BINARY = 20  # binary-looking documents named one a line; the rest are counted in one line


@dataclass
class TextComponent:
    """Text (or any bytes) as documents. ``control``: None, ``zlib`` (the same documents
    compressed), ``uniform`` or ``markov`` (synthetic, known bpb floor; ``paths`` unused).
    ``split``: ``auto`` (contiguous byte ranges for a single file, by document otherwise),
    ``documents`` or ``contiguous``; val/test fractions of documents or of bytes."""

    paths: list[str] | None = None
    context_bytes: int = 512
    stream_bytes: int = 256
    val_fraction: float = 0.05
    test_fraction: float = 0.05
    split: str = "auto"
    split_seed: int = 0
    control: str | None = None

    def __post_init__(self):
        if self.control is not None and self.control not in CONTROLS:
            raise ValueError(f"control must be one of {CONTROLS} or null, got {self.control!r}")
        if self.context_bytes < 1 or self.stream_bytes < 1:
            raise ValueError(
                f"context_bytes and stream_bytes must be ≥ 1, got {self.context_bytes}, {self.stream_bytes}"
            )
        self.bpb_floor: float | None = None

    @property
    def prefix_len(self) -> int:
        return self.context_bytes

    def set_prefix_len(self, n: int) -> None:
        self.context_bytes = n

    def _store(self, cache_dir, on_bad=None):
        if self.control in ("uniform", "markov"):
            folder, self.bpb_floor = synthetic_corpus(self.control, seed=self.split_seed, cache_root=cache_dir)
            paths = [str(folder)]
        else:
            paths = list(self.paths) if self.paths else [str(default_text_corpus(cache_dir))]
        transform = "zlib" if self.control == "zlib" else "none"
        return build_store(
            paths, self.val_fraction, self.test_fraction, self.split_seed, cache_dir, transform, self.split, on_bad
        )

    def prepare(self, cache_dir) -> None:
        # bad documents are judged at setup, where on_bad_item applies; here they pass silently
        self._store(cache_dir, on_bad=lambda error: None)

    def build(self, cache_dir, on_bad, splits: SourceSplits) -> dict:
        self.store = self._store(cache_dir, on_bad)
        window = self.context_bytes + self.stream_bytes
        sources = {}
        for name in SPLITS:
            stream = self.store.stream(name)
            if len(stream) < window:
                m = self.store.meta[name]
                raise ValueError(
                    f"the text {name} split has {m['bytes']:,} bytes ({len(stream):,} ids), fewer than one window of "
                    f"{window} (context_bytes {self.context_bytes} + stream_bytes {self.stream_bytes}); files: "
                    f"{', '.join(m['files'][:5])}{' ...' if len(m['files']) > 5 else ''}"
                )
            sources[name] = StreamSource(stream, self.context_bytes, self.stream_bytes)
        return sources

    def describe(self) -> str:
        m = self.store.meta
        floor = f"; exact bpb floor {self.bpb_floor:.4f}" if self.bpb_floor is not None else ""
        bounds = f"; contiguous bounds {m['bounds']}" if m["split"] == "contiguous" else ""
        return (
            f"{' / '.join(str(m[s]['bytes']) for s in SPLITS)} train/val/test bytes (split by {m['split']}), "
            f"control={self.control}{floor}{bounds} (cache {self.store.root})"
        )

    def summary(self) -> dict:
        m = self.store.meta
        binary = m["binary_files"]
        return {
            s: {
                "items": m[s]["documents"] or 1,
                "bytes": m[s]["bytes"],
                "binary files": len(set(m[s]["files"]) & set(binary)),
            }
            for s in SPLITS
        }

    def data_warnings(self, K: int) -> list[str]:
        """One line per document that looks binary (kept and trained on as it is: any bytes are a
        feature), up to ``NAMED_BINARY``; the synthetic controls are bytes by design."""
        if self.control in ("uniform", "markov"):
            return []
        found = self.store.meta["binary_files"]
        lines = [f"text: {path} looks binary ({why}); its bytes train as they are" for path, why in found.items()]
        if len(lines) > NAMED_BINARY:
            rest = len(lines) - NAMED_BINARY
            lines = lines[:NAMED_BINARY] + [f"text: {rest:,} more files look binary (meta.json of {self.store.root})"]
        return lines


@dataclass
class CaptionedComponent(CaptionLayout):
    """Captioned windows from a ``metadata.jsonl`` (None: the embedded corpus named by
    ``corpus``: ``binding``, where image, speech or both each carry their own part of the
    caption, or ``spoken_digits``, the first demo). Items are split by every source they use
    (image or clip, recording, and ``group`` when given)."""

    metadata: str | None = None
    corpus: str = "binding"
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    split_seed: int = 0
    shuffle_captions: bool = False

    @property
    def prefix_len(self) -> int:
        return self.frame_len + 1 + self.audio_bytes + 1

    def set_prefix_len(self, n: int) -> None:
        audio = self.audio_bytes + n - self.prefix_len  # the frame is fixed: the audio takes the change
        if audio < 1:
            raise ValueError(f"captioned: a prefix of {n} ids leaves no audio byte (frame {self.frame_len} + 2 SEP)")
        self.audio_bytes = audio

    def _metadata(self, cache_dir) -> str:
        if self.metadata:
            return self.metadata
        from .demo_corpus import demo_corpus

        return str(demo_corpus(cache_dir).captioned(self.corpus))

    def prepare(self, cache_dir) -> None:
        self._metadata(cache_dir)

    def build(self, cache_dir, on_bad, splits: SourceSplits) -> dict:
        # decoded first, so a bad item is skipped before the split, never leaving a split empty
        rows = read_metadata(self._metadata(cache_dir), on_bad)
        items = load_items_cached(rows, self, on_bad, cache_dir or default_cache_root())
        keys = [_split_keys(files, group) for files, group in zip(items.files, items.groups, strict=True)]
        where = splits.split(keys, self.val_fraction, self.test_fraction, self.split_seed, "captioned items")
        self.items = {s: items.subset(i for i, w in enumerate(where) if w == s) for s in SPLITS}

        def make(items, shuffle):
            labels = np.empty(len(items.labels), dtype=object)  # None: the item names no class
            labels[:] = [None if x is None else str(x) for x in items.labels]
            return CaptionSource(items.prefix, items.stream, labels, self.frame_len, shuffle_captions=shuffle)

        return {s: make(self.items[s], self.shuffle_captions and s == "train") for s in SPLITS}

    def describe(self) -> str:
        n = " / ".join(str(len(self.items[s].prefix)) for s in SPLITS)
        return (
            f"{n} train/val/test captioned items (prefix {self.prefix_len} ids, caption {self.caption_bytes}, "
            f"audio from {self.audio_start!r}); shuffle_captions={self.shuffle_captions}"
        )

    def summary(self) -> dict:
        rate = self.sample_rate
        out = {}
        for s in SPLITS:
            it = self.items[s]
            out[s] = {
                "items": len(it.prefix),
                "bytes": it.total("caption_kept"),
                "captions cut": int((it.counts[:, 1] > 0).sum()),
                "caption bytes cut": it.total("caption_cut"),
                "audio s kept": round(it.total("audio_kept") / rate, 3),
                "audio s skipped (start)": round(it.total("audio_skipped") / rate, 3),
                "audio s cut (tail)": round(it.total("audio_cut") / rate, 3),
                "audio PAD-completed": it.total("audio_padded"),
            }
        return out

    def data_warnings(self, K: int) -> list[str]:
        """Warnings for own data (``metadata``) the window keeps under half of or cuts the captions
        of often (``window_fit.py``); the embedded corpus's short windows are its design."""
        if not self.metadata:
            return []
        counts = np.concatenate([self.items[s].counts for s in SPLITS])
        return captioned_warnings("captioned", counts, self, K)


def _split_keys(files: tuple[str, ...], group) -> tuple[str, ...]:
    """What ties captioned items together for the split: every media file, and the group."""
    return tuple(f"file:{f}" for f in files) + ((f"group:{group}",) if group is not None else ())


def _sequence_split(files, load, window: int, component, splits: SourceSplits, on_bad, what: str, group=None) -> dict:
    """Load every item, reject those shorter than a window, split by item (file); the
    component keeps the file names of each split in ``files``. ``group`` (items -> a group
    index per item, e.g. ``near_duplicate_groups``) ties items together: a group shares a split."""
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
    if len(items) < 3:
        raise ValueError(f"a train/val/test split needs ≥ 3 usable {what}s, got {len(items)} of {len(files)} files")
    keys = [(f"file:{n}",) for n in names]
    component.groups = []
    if group is not None:
        of = group(items)
        members = {g: [n for n, h in zip(names, of, strict=True) if h == g] for g in dict.fromkeys(of)}
        component.groups = [m for m in members.values() if len(m) > 1]
        if len(members) < 3:
            raise ValueError(
                f"a train/val/test split needs ≥ 3 distinct {what}s; the {len(items)} usable files are "
                f"{len(members)} group(s) of near-duplicates: {[[Path(n).name for n in m] for m in members.values()]}"
            )
        keys = [(f"file:{n}", f"{what} group:{names[g]}") for n, g in zip(names, of, strict=True)]
    where = splits.split(keys, component.val_fraction, component.test_fraction, component.split_seed, what)
    component.files = {s: [n for n, w in zip(names, where, strict=True) if w == s] for s in SPLITS}
    return {s: [x for x, w in zip(items, where, strict=True) if w == s] for s in SPLITS}


@dataclass
class AudioComponent:
    """μ-law audio continuation windows: prefix = earlier audio, stream = what follows. Each
    recording is read from ``audio_start`` (``voiced``: after its leading silence, counted)."""

    paths: list[str] | None = None
    sample_rate: int = 8000
    audio_start: str = "voiced"
    context_bytes: int = 768
    stream_bytes: int = 256
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    split_seed: int = 0

    @property
    def prefix_len(self) -> int:
        return self.context_bytes

    def set_prefix_len(self, n: int) -> None:
        self.context_bytes = n

    def _paths(self, cache_dir) -> list[str]:
        if self.paths:
            return list(self.paths)
        from .demo_corpus import demo_corpus

        return [str(demo_corpus(cache_dir).speech)]

    def prepare(self, cache_dir) -> None:
        self._paths(cache_dir)

    def _load(self, f) -> np.ndarray:
        codes = load_mulaw(f, self.sample_rate).numpy()
        start = audio_offset(codes, self.audio_start, self.sample_rate, str(f))
        self.skipped_bytes += start
        return codes[start:]

    def build(self, cache_dir, on_bad, splits: SourceSplits) -> dict:
        window = self.context_bytes + self.stream_bytes
        self.skipped_bytes = 0
        files = resolve_paths(self._paths(cache_dir))
        self.n_files = len(files)
        self.items = _sequence_split(files, self._load, window, self, splits, on_bad, "recording")
        return {s: SequenceSource(self.items[s], self.context_bytes, self.stream_bytes, "audio") for s in SPLITS}

    def describe(self) -> str:
        n = " / ".join(str(len(self.items[s])) for s in SPLITS)
        return (
            f"{n} train/val/test recordings of {self.n_files} files, {self.sample_rate} Hz μ-law from "
            f"{self.audio_start!r}, windows {self.context_bytes}+{self.stream_bytes} bytes"
        )

    def summary(self) -> dict:
        out = {s: {"items": len(v), "bytes": sum(map(len, v))} for s, v in self.items.items()}
        out["train"]["audio s skipped (start, all splits)"] = round(self.skipped_bytes / self.sample_rate, 3)
        return out


# Clips whose frames at the same times differ by less than this mean |Δ| per pixel (0..255) at
# 8×8 are one source (e.g. a re-encode): they share a split. Measured on the embedded corpus
# (scripts/demo_splits.py): carphone pristine vs distorted 3.51; different real clips ≥ 40.4;
# different moving-digit clips ≥ 15.9. Frames are compared at equal times from the start, so a
# trimmed or time-shifted copy is not caught.
NEAR_DUPLICATE_SIZE, NEAR_DUPLICATE_DIFF = 8, 10.0


def near_duplicate_clips(clips: list[np.ndarray], frame_size: int) -> list[int]:
    """The near-duplicate group of each clip ([frames * frame_size²] bytes), compared at 8×8
    frame by frame (whatever ``frame_size``, so the groups do not depend on it)."""
    frames = [thumbnails(c.reshape(-1, frame_size * frame_size), NEAR_DUPLICATE_SIZE) for c in clips]
    return near_duplicate_groups(frames, NEAR_DUPLICATE_DIFF)


@dataclass
class FramesComponent:
    """Grayscale frame continuation windows from videos sampled at ``fps``: prefix =
    ``context_frames`` frames (or ``context_bytes`` bytes, when a K needs a prefix that is not
    whole frames), stream = the next ``stream_frames`` whole frames (row-major). Clips that
    are near-duplicates of each other (``near_duplicate_clips``) share a split."""

    paths: list[str] | None = None
    fps: float = 8.0
    frame_size: int = 16
    context_frames: int = 7
    stream_frames: int = 1
    context_bytes: int | None = None
    val_fraction: float = 0.25
    test_fraction: float = 0.25
    split_seed: int = 0

    @property
    def frame_len(self) -> int:
        return self.frame_size * self.frame_size

    @property
    def prefix_len(self) -> int:
        return self.context_bytes if self.context_bytes is not None else self.context_frames * self.frame_len

    def set_prefix_len(self, n: int) -> None:
        self.context_bytes = n

    def _paths(self, cache_dir) -> list[str]:
        if self.paths:
            return list(self.paths)
        from .demo_corpus import demo_corpus

        return [str(demo_corpus(cache_dir).video)]

    def prepare(self, cache_dir) -> None:
        self._paths(cache_dir)

    def build(self, cache_dir, on_bad, splits: SourceSplits) -> dict:
        stream = self.stream_frames * self.frame_len
        first = -(-self.prefix_len // self.frame_len) * self.frame_len  # whole frames before the stream
        load = lambda f: video_frames(f, self.fps, self.frame_size).numpy().reshape(-1)  # noqa: E731
        files = resolve_paths(self._paths(cache_dir))
        self.n_files = len(files)
        group = lambda clips: near_duplicate_clips(clips, self.frame_size)  # noqa: E731
        self.items = _sequence_split(files, load, first + stream, self, splits, on_bad, "video", group)
        return {
            s: SequenceSource(self.items[s], self.prefix_len, stream, "frame", align=self.frame_len) for s in SPLITS
        }

    def describe(self) -> str:
        n = " / ".join(str(len(self.items[s])) for s in SPLITS)
        tied = "; ".join(" = ".join(Path(f).name for f in g) for g in self.groups) or "none"
        return (
            f"{n} train/val/test clips of {self.n_files} files at {self.fps} fps, {self.frame_size}×{self.frame_size} "
            f"gray, prefix {self.prefix_len} bytes + {self.stream_frames} frame(s) a window; near-duplicates "
            f"sharing a split: {tied}"
        )

    def summary(self) -> dict:
        return {s: {"items": len(v), "bytes": sum(map(len, v))} for s, v in self.items.items()}


__all__ = ["AudioComponent", "CaptionedComponent", "FramesComponent", "TextComponent", "readable_documents"]
