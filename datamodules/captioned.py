"""Captioned items from a ``metadata.jsonl`` and their fixed-layout windows (DESIGN.md §4).

One item a line: ``{"image": "a.png" | "video": "v.mp4", "time": 1.5, "audio": "a.wav",
"caption": "...", "label": ..., "group": ...}``; paths are relative to the metadata file.
An item needs a caption and at least one of frame (image or video+time) and audio; a
missing one is filled with PAD ids (distinct from every byte), never with a byte value.

Window: prefix ``[frame] SEP [audio] SEP`` (frame_size² + 1 + audio_bytes + 1 ids),
stream ``[caption] EOS`` then PAD to ``caption_bytes``. The audio starts where
``audio_start`` says (``voiced``: after the leading silence; or a number of seconds) and
keeps ``audio_bytes`` bytes from there; shorter audio is PAD-completed; a caption longer than
``caption_bytes - 1`` bytes is cut at a UTF-8 character boundary. Every cut is counted
(items and bytes) for the dataset summary.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from holozero.specials import EOS, PAD, SEP

from .audio import audio_offset, load_mulaw
from .cache import build_once
from .errors import BadItemError
from .frames import load_gray, video_frame_at


@dataclass
class CaptionLayout:
    frame_size: int = 16
    audio_bytes: int = 1022  # prefix 256 + 1 + 1022 + 1 = 1280 ids: whole slots for K = 1, 2, 4, 8, 16
    caption_bytes: int = 32
    sample_rate: int = 8000
    audio_start: str = "voiced"  # "voiced" (skip leading silence) or seconds, e.g. "0.25"

    @property
    def frame_len(self) -> int:
        return self.frame_size * self.frame_size

    @property
    def prefix_len(self) -> int:
        return self.frame_len + 1 + self.audio_bytes + 1


@dataclass
class CaptionedItems:
    prefix: np.ndarray  # [N, prefix_len] int64
    stream: np.ndarray  # [N, caption_bytes] int64
    labels: list = field(default_factory=list)
    groups: list = field(default_factory=list)
    sources: list = field(default_factory=list)  # metadata line of each item, for messages
    files: list = field(default_factory=list)  # the media files each item uses (image/video, audio)
    # per item, for the dataset summary: [N, len(COUNTS)] integers
    counts: np.ndarray = field(default_factory=lambda: np.zeros((0, len(COUNTS)), dtype=np.int64))

    def subset(self, index) -> CaptionedItems:
        index = list(index)
        pick = lambda xs: [xs[i] for i in index]  # noqa: E731
        return CaptionedItems(
            self.prefix[index], self.stream[index], pick(self.labels), pick(self.groups), pick(self.sources),
            pick(self.files), self.counts[index],
        )  # fmt: skip

    def total(self, name: str) -> int:
        return int(self.counts[:, COUNTS.index(name)].sum())


COUNTS = (
    "caption_kept",  # caption bytes in the window
    "caption_cut",  # caption bytes cut at caption_bytes - 1 (at a UTF-8 character boundary)
    "audio_kept",  # audio bytes in the window
    "audio_skipped",  # audio bytes before the audio start (leading silence under "voiced")
    "audio_cut",  # audio bytes after the window's audio_bytes (the recording's tail)
    "audio_padded",  # 1 when the audio from its start is shorter than audio_bytes (PAD-completed)
)


def cut_utf8(data: bytes, limit: int) -> bytes:
    """The longest prefix of ``data`` with at most ``limit`` bytes that ends on a UTF-8
    character boundary (never splits a multi-byte character)."""
    if len(data) <= limit:
        return data
    end = limit
    while end > 0 and (data[end] & 0xC0) == 0x80:  # a continuation byte: back up to a start byte
        end -= 1
    return data[:end]


def caption_ids(caption, layout: CaptionLayout, where: str) -> tuple[np.ndarray, int, int]:
    """(stream ids, caption bytes kept, caption bytes cut)."""
    if not isinstance(caption, str) or not caption:
        raise BadItemError(where, "caption must be a non-empty string")
    try:
        data = caption.encode("utf-8")
    except UnicodeEncodeError as e:
        raise BadItemError(where, f"caption is not valid UTF-8 ({e.reason} at {e.start})") from None
    kept = cut_utf8(data, layout.caption_bytes - 1)
    if not kept:
        raise BadItemError(where, f"caption_bytes={layout.caption_bytes} leaves no room for the first character")
    ids = np.full(layout.caption_bytes, PAD, dtype=np.int64)
    ids[: len(kept)] = np.frombuffer(kept, dtype=np.uint8)
    ids[len(kept)] = EOS
    return ids, len(kept), len(data) - len(kept)


def read_metadata(path: str | Path, on_bad) -> list[dict]:
    """Parse the jsonl; paths resolved against its folder. Bad lines go to ``on_bad``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"metadata file {str(path)!r} does not exist")
    items = []
    for n, raw in enumerate(path.read_bytes().splitlines(), start=1):
        where = f"{path}:{n}"
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            on_bad(BadItemError(where, f"line is not valid UTF-8 (byte {e.start})"))
            continue
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as e:
            on_bad(BadItemError(where, f"not valid JSON ({e.msg})"))
            continue
        if not isinstance(item, dict) or "caption" not in item:
            on_bad(BadItemError(where, "an item needs a 'caption'"))
            continue
        if not any(k in item for k in ("image", "video", "audio")):
            on_bad(BadItemError(where, "an item needs an 'image', a 'video' + 'time', or an 'audio'"))
            continue
        if "video" in item and "time" not in item:
            on_bad(BadItemError(where, "a 'video' item needs a 'time' (seconds)"))
            continue
        for key in ("image", "video", "audio"):
            if key in item:
                item[key] = str((path.parent / item[key]).resolve())
        item["_where"] = where
        items.append(item)
    return items


def item_files(item: dict) -> tuple[str, ...]:
    """The media files an item uses: its image or video clip, and its recording."""
    return tuple(item[k] for k in ("image", "video", "audio") if k in item)


def load_items(items: list[dict], layout: CaptionLayout, on_bad) -> CaptionedItems:
    """Decode every item into window ids; a bad file or caption goes to ``on_bad``."""
    audio_cache: dict[str, np.ndarray] = {}  # many items may share one recording
    prefixes, streams, counts, kept = [], [], [], []
    for item in items:
        try:
            prefix = np.full(layout.prefix_len, PAD, dtype=np.int64)
            if "image" in item:
                prefix[: layout.frame_len] = load_gray(item["image"], layout.frame_size).numpy()
            elif "video" in item:
                prefix[: layout.frame_len] = video_frame_at(
                    item["video"], float(item["time"]), layout.frame_size
                ).numpy()
            prefix[layout.frame_len] = SEP
            audio = (0, 0, 0, 0)
            if "audio" in item:
                if item["audio"] not in audio_cache:
                    audio_cache[item["audio"]] = load_mulaw(item["audio"], layout.sample_rate).numpy()
                recording = audio_cache[item["audio"]]
                start = audio_offset(recording, layout.audio_start, layout.sample_rate, item["audio"])
                window = recording[start : start + layout.audio_bytes]
                prefix[layout.frame_len + 1 : layout.frame_len + 1 + len(window)] = window
                tail = len(recording) - start - len(window)
                audio = (len(window), start, tail, int(len(window) < layout.audio_bytes))
            prefix[-1] = SEP
            stream, caption_kept, caption_cut = caption_ids(item["caption"], layout, item["_where"])
        except BadItemError as e:
            if e.path != item["_where"]:  # a file's error also names the metadata line that uses it
                e = BadItemError(e.path, f"{e.reason} (item {item['_where']})")
            on_bad(e)
            continue
        prefixes.append(prefix)
        streams.append(stream)
        counts.append((caption_kept, caption_cut, *audio))
        kept.append(item)
    if not kept:
        raise ValueError("no usable captioned item")
    return CaptionedItems(
        prefix=np.stack(prefixes),
        stream=np.stack(streams),
        labels=[it.get("label") for it in kept],
        groups=[it.get("group") for it in kept],
        sources=[it["_where"] for it in kept],
        files=[item_files(it) for it in kept],
        counts=np.array(counts, dtype=np.int64),
    )


ITEMS_CACHE_VERSION = 1


def _items_key(rows: list[dict], layout: CaptionLayout) -> str:
    """Every input of ``load_items``: the rows, the layout, and each media file's size and time."""
    sizes = (layout.frame_size, layout.audio_bytes, layout.caption_bytes, layout.sample_rate, layout.audio_start)
    h = hashlib.sha256(f"v{ITEMS_CACHE_VERSION}|{sizes}\n".encode())
    for row in rows:
        h.update(json.dumps(row, sort_keys=True).encode())  # ascii: a bad caption (a lone surrogate) still hashes
        for f in item_files(row):
            try:
                st = os.stat(f)
                h.update(f"|{st.st_size}|{st.st_mtime_ns}".encode())
            except OSError:
                h.update(b"|missing")
        h.update(b"\n")
    return h.hexdigest()[:20]


def load_items_cached(items: list[dict], layout: CaptionLayout, on_bad, cache_root) -> CaptionedItems:
    """``load_items`` decoded once and kept in the cache: every command of a run (fit, test,
    evaluate) and every run of a sweep reads the arrays back instead of decoding every image and
    recording again. A skipped bad item is kept in the cache and reported again on every read."""
    root = Path(cache_root) / "captioned" / _items_key(items, layout)
    if not (root / "items.json").exists():
        skipped: list[tuple[str, str]] = []

        def record(error: BadItemError) -> None:
            on_bad(error)  # raises under on_bad_item: error, so nothing half-read is cached
            skipped.append((error.path, error.reason))

        loaded = load_items(items, layout, record)

        def write(tmp: Path) -> None:
            np.savez(tmp / "arrays.npz", prefix=loaded.prefix.astype(np.uint16), stream=loaded.stream.astype(np.uint16),
                     counts=loaded.counts)  # fmt: skip
            meta = {k: getattr(loaded, k) for k in ("labels", "groups", "sources")}
            meta |= {"files": [list(f) for f in loaded.files], "skipped": skipped}
            (tmp / "items.json").write_text(json.dumps(meta))

        build_once(root, "items.json", write)
        return loaded
    meta = json.loads((root / "items.json").read_text())
    for path, reason in meta["skipped"]:
        on_bad(BadItemError(path, reason))
    with np.load(root / "arrays.npz") as arrays:
        prefix, stream, counts = (arrays[k].astype(np.int64) for k in ("prefix", "stream", "counts"))
    files = [tuple(f) for f in meta["files"]]
    return CaptionedItems(prefix, stream, meta["labels"], meta["groups"], meta["sources"], files, counts)
