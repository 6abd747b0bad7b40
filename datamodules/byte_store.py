"""Documents -> memory-mapped id streams, split by document, built once and cached.

Each split is one flat ``uint16`` file: every document's bytes followed by EOS (257), so
windows may cross document boundaries the way a byte LM reads a corpus, and no byte value
is ever used as a separator. The split assigns whole documents (never windows) to
train/val with a fixed seed. The cache key covers every input file's path, size and
modification time plus the split settings, so a changed corpus is rebuilt, never reused.
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

from holozero.specials import EOS

from .cache import build_once

FORMAT_VERSION = 1


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


def _cache_key(files: list[Path], val_fraction: float, split_seed: int, transform: str) -> str:
    h = hashlib.sha256(f"v{FORMAT_VERSION}|{val_fraction!r}|{split_seed}|{transform}".encode())
    for f in files:
        st = f.stat()
        h.update(f"{f}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:20]


def split_documents(n_docs: int, val_fraction: float, split_seed: int) -> tuple[list[int], list[int]]:
    """Document indices for (train, val), fixed by ``split_seed``; val gets at least one."""
    if n_docs < 2:
        raise ValueError(f"a document-level train/val split needs ≥ 2 documents, got {n_docs}")
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    order = np.random.default_rng(split_seed).permutation(n_docs)
    n_val = min(max(1, round(val_fraction * n_docs)), n_docs - 1)
    return sorted(order[n_val:].tolist()), sorted(order[:n_val].tolist())


def _write_stream(path: Path, files: list[Path], transform: str) -> int:
    total = 0
    with open(path, "wb") as out:
        for f in files:
            raw = f.read_bytes()
            if transform == "zlib":  # the compressed-bytes control: same content, near-uniform bytes
                raw = zlib.compress(raw, 9)
            data = np.frombuffer(raw, dtype=np.uint8).astype(np.uint16)
            out.write(data.tobytes())
            out.write(np.array([EOS], dtype=np.uint16).tobytes())
            total += data.size + 1
    return total


def build_store(
    paths: Sequence[str | os.PathLike],
    val_fraction: float = 0.1,
    split_seed: int = 0,
    cache_root: str | os.PathLike | None = None,
    transform: str = "none",
) -> SplitStore:
    """Build (or reuse) the cached train/val streams for ``paths``; ``transform="zlib"``
    stores each document zlib-compressed (the compressed-bytes control)."""
    if transform not in TRANSFORMS:
        raise ValueError(f"transform must be one of {TRANSFORMS}, got {transform!r}")
    files = resolve_paths(paths)
    train_idx, val_idx = split_documents(len(files), val_fraction, split_seed)
    root = Path(cache_root or default_cache_root()) / "text" / _cache_key(files, val_fraction, split_seed, transform)

    def build(tmp: Path) -> None:
        meta = {
            "version": FORMAT_VERSION,
            "val_fraction": val_fraction,
            "split_seed": split_seed,
            "transform": transform,
        }
        for split, idx in (("train", train_idx), ("val", val_idx)):
            chosen = [files[i] for i in idx]
            n_ids = _write_stream(tmp / f"{split}.u16", chosen, transform)
            meta[split] = {
                "documents": len(chosen),
                "ids": n_ids,
                "bytes": n_ids - len(chosen),
                "empty_documents": [str(f) for f in chosen if f.stat().st_size == 0],  # kept: an EOS each
                "files": [str(f) for f in chosen],
            }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))

    build_once(root, "meta.json", build)
    return SplitStore(root, json.loads((root / "meta.json").read_text()))
