"""Documents -> memory-mapped id streams, split train / val / test, built once and cached.

Each split is one flat ``uint16`` file: every document's bytes followed by EOS (257), so
windows may cross document boundaries the way a byte LM reads a corpus, and no byte value
is ever used as a separator. ``split="documents"`` assigns whole documents (never windows)
to the splits with a fixed seed; ``split="contiguous"`` (the default for a single file, the
enwik8 convention) cuts the one id stream into contiguous train | val | test ranges and
records the boundaries. The cache key covers every input file's path, size and modification
time plus the split settings, so a changed corpus is rebuilt, never reused. A file that looks
binary (``binary_files.py``) is stored like any other and recorded in ``meta["binary_files"]``,
for the warning and the summary's count.

An empty or unreadable file is a bad item: an error naming it, or a counted skip under
``on_bad_item: skip``; nothing is dropped without a word.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from holozero.specials import EOS, NUM_BYTES

from .binary_files import looks_binary
from .cache import build_once
from .errors import BadItemError
from .splits import SPLITS, assign, contiguous_bounds

FORMAT_VERSION = 3  # 3: meta records the files that look binary
SPLIT_MODES = ("auto", "documents", "contiguous")


def default_cache_root() -> Path:
    return Path(os.environ.get("HOLOZERO_CACHE", Path.home() / ".cache" / "holozero"))


def resolve_paths(paths: Sequence[str | os.PathLike]) -> list[Path]:
    """Files, folders (recursively, hidden entries skipped) or glob patterns -> sorted files.
    A path that does not exist or a pattern that matches nothing is an error naming it."""
    files: set[Path] = set()
    for entry in paths:
        text = str(entry)
        if any(ch in text for ch in "*?["):
            matches = [Path(m) for m in glob.glob(text, recursive=True) if Path(m).is_file()]
            if not matches:
                raise FileNotFoundError(f"glob {text!r} matches no file")
            files.update(matches)
            continue
        path = Path(text)
        if path.is_file():
            files.add(path)
        elif path.is_dir():
            found = [
                p
                for p in path.rglob("*")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            ]
            if not found:
                raise FileNotFoundError(f"folder {text!r} holds no file")
            files.update(found)
        else:
            raise FileNotFoundError(f"text path {text!r} does not exist")
    return sorted(p.resolve() for p in files)


@dataclass(frozen=True)
class SplitStore:
    root: Path
    meta: dict

    def stream(self, split: str) -> np.memmap:
        return np.memmap(self.root / f"{split}.u16", dtype=np.uint16, mode="r")


TRANSFORMS = ("none", "zlib")


def _cache_key(files: list[Path], settings: str) -> str:
    h = hashlib.sha256(f"v{FORMAT_VERSION}|{settings}".encode())
    for f in files:
        st = f.stat()
        h.update(f"{f}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:20]


def readable_documents(files: list[Path], on_bad) -> list[Path]:
    """The files that can be documents; an empty or unreadable one goes to ``on_bad`` (which
    raises under ``on_bad_item: error`` and records it under ``skip``)."""
    kept = []
    for f in files:
        if not os.access(f, os.R_OK):
            on_bad(BadItemError(f, "cannot be read (permission denied)"))
        elif f.stat().st_size == 0:
            on_bad(BadItemError(f, "empty file (0 bytes): not a document"))
        else:
            kept.append(f)
    return kept


def _read(f: Path, transform: str) -> tuple[np.ndarray, str | None]:
    """(the document's ids, why the file looks binary or None: judged on the file as given)."""
    raw = f.read_bytes()
    binary = looks_binary(raw)
    if transform == "zlib":  # the compressed-bytes control: same content, near-uniform bytes
        raw = zlib.compress(raw, 9)
    return np.frombuffer(raw, dtype=np.uint8).astype(np.uint16), binary


def _write_documents(path: Path, files: list[Path], transform: str, binary: dict) -> np.ndarray:
    """Write every document followed by EOS; returns the id stream (held in memory once) and
    records each file that looks binary in ``binary`` (path -> why)."""
    parts = []
    for f in files:
        ids, why = _read(f, transform)
        parts += [ids, np.array([EOS], dtype=np.uint16)]
        if why:
            binary[str(f)] = why
    ids = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint16)
    ids.tofile(path)
    return ids


def build_store(
    paths: Sequence[str | os.PathLike],
    val_fraction: float = 0.05,
    test_fraction: float = 0.05,
    split_seed: int = 0,
    cache_root: str | os.PathLike | None = None,
    transform: str = "none",
    split: str = "auto",
    on_bad=None,
) -> SplitStore:
    """Build (or reuse) the cached train/val/test streams for ``paths``; ``transform="zlib"``
    stores each document zlib-compressed (the compressed-bytes control). ``split``: ``auto``
    (contiguous for one file, by document otherwise), ``documents`` or ``contiguous``."""
    if transform not in TRANSFORMS:
        raise ValueError(f"transform must be one of {TRANSFORMS}, got {transform!r}")
    if split not in SPLIT_MODES:
        raise ValueError(f"split must be one of {SPLIT_MODES}, got {split!r}")

    def raise_bad(error):
        raise error

    files = readable_documents(resolve_paths(paths), on_bad or raise_bad)
    if not files:
        raise ValueError(f"no usable document in {list(map(str, paths))}")
    mode = split if split != "auto" else ("contiguous" if len(files) == 1 else "documents")
    if mode == "documents":
        if len(files) < 3:
            raise ValueError(
                f"a train/val/test split by document needs ≥ 3 documents, got {len(files)}; "
                "use split: contiguous to cut contiguous byte ranges instead"
            )
        where = assign(len(files), val_fraction, test_fraction, split_seed, "documents")
    settings = f"{val_fraction!r}|{test_fraction!r}|{split_seed}|{transform}|{mode}"
    root = Path(cache_root or default_cache_root()) / "text" / _cache_key(files, settings)

    def build(tmp: Path) -> None:
        meta = {"version": FORMAT_VERSION, "split": mode, "val_fraction": val_fraction}
        meta |= {"test_fraction": test_fraction, "split_seed": split_seed, "transform": transform}
        binary: dict[str, str] = {}
        if mode == "documents":
            for name in SPLITS:
                chosen = [f for f, w in zip(files, where, strict=True) if w == name]
                ids = _write_documents(tmp / f"{name}.u16", chosen, transform, binary)
                meta[name] = {"documents": len(chosen), "ids": int(ids.size), "bytes": int((ids < NUM_BYTES).sum())}
                meta[name]["files"] = [str(f) for f in chosen]
        else:
            ids = _write_documents(tmp / "all.u16", files, transform, binary)
            (tmp / "all.u16").unlink()
            train_end, val_end = contiguous_bounds(ids.size, val_fraction, test_fraction)
            meta["bounds"] = {"train": [0, train_end], "val": [train_end, val_end], "test": [val_end, int(ids.size)]}
            for name, (lo, hi) in meta["bounds"].items():
                ids[lo:hi].tofile(tmp / f"{name}.u16")
                meta[name] = {"documents": None, "ids": hi - lo, "bytes": int((ids[lo:hi] < NUM_BYTES).sum())}
                meta[name]["files"] = [str(f) for f in files]
        meta["binary_files"] = binary
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))

    build_once(root, "meta.json", build)
    return SplitStore(root, json.loads((root / "meta.json").read_text()))
