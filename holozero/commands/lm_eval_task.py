"""The documents of the lm-eval task ``holozero_text`` (lm_eval_tasks/holozero_text.yaml), read
from local files, never downloaded. lm-eval passes its ``--metadata`` here:

    (nothing)                           the embedded English + Korean corpus's test split
    text_path=FILE_OR_DIR_OR_GLOB       every file it names is one document (folders recursively)
    text_config=RUN/config.yaml         the text split of that run's data: the bytes
        [text_split=test|val|train]     `holozero evaluate --config RUN/config.yaml` scores

A split is one stream of documents each followed by EOS (datamodules/byte_store.py); each
document is one lm-eval doc. lm-eval scores text (``str``) and counts its UTF-8 bytes, so a
document that is not valid UTF-8 is refused with its name and the offending byte.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from holozero.specials import EOS, NUM_BYTES

KNOWN = ("text_path", "text_config", "text_split")
SPLITS = ("train", "val", "test")


def split_documents(stream) -> list[bytes]:
    """The documents of an id stream: the bytes between EOS ids (a last one without EOS too)."""
    ids = np.asarray(stream)
    other = (ids >= NUM_BYTES) & (ids != EOS)
    if other.any():
        at = int(np.flatnonzero(other)[0])
        raise ValueError(f"the text stream holds id {int(ids[at])} at {at}: a text split is bytes and EOS only")
    cuts = np.flatnonzero(ids == EOS)
    starts, ends = np.concatenate([[0], cuts + 1]), np.concatenate([cuts, [len(ids)]])
    return [ids[s:e].astype(np.uint8).tobytes() for s, e in zip(starts, ends, strict=True) if e > s]


def text_stream(text_config: str | None, split: str):
    """The ``split`` id stream of a run's text data (``text_config``) or of the embedded corpus."""
    if text_config is None:
        from datamodules import TextDataModule

        dm = TextDataModule()  # the embedded corpus, split as every run over it is split
        dm.prepare_data()
        dm.setup("test")
    else:
        from .evaluate import build_data

        if not Path(text_config).is_file():
            raise ValueError(f"holozero_text: text_config {text_config} is not a file (a run's config.yaml)")
        dm = build_data(Path(text_config))
    source = dm.sources(split).get("text")
    if source is None:
        raise ValueError(f"holozero_text: the data of {text_config} has no text component")
    return source.stream


def documents(text_path: str | None = None, text_config: str | None = None, text_split: str = "test") -> list:
    """[(name, bytes)] of the task's documents (see the module docstring)."""
    if text_path is not None and text_config is not None:
        raise ValueError("holozero_text: give text_path (files) or text_config (a run's split), not both")
    if text_split not in SPLITS:
        raise ValueError(f"holozero_text: text_split must be one of {SPLITS}, got {text_split!r}")
    if text_path is not None:
        from datamodules.byte_store import resolve_paths

        return [(str(f), f.read_bytes()) for f in resolve_paths([text_path])]
    where = f"the {text_split} split of " + (text_config or "the embedded text corpus")
    return [
        (f"document {i} of {where}", doc) for i, doc in enumerate(split_documents(text_stream(text_config, text_split)))
    ]


def as_text(name: str, doc: bytes) -> str:
    try:
        return doc.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(
            f"holozero_text: {name} is not UTF-8 at byte {e.start} ({e.reason}); lm-eval scores text and counts "
            "its UTF-8 bytes, so score bytes that are not text with `holozero evaluate`"
        ) from None


def holozero_text(**metadata) -> dict:
    """lm-eval's ``custom_dataset``: {"test": Dataset with a ``text`` column}. ``metadata`` holds
    the task's metadata, ``--model_args`` and ``--metadata``; only ``text_*`` keys are read."""
    import datasets

    unknown = sorted(k for k in metadata if k.startswith("text_") and k not in KNOWN)
    if unknown:
        raise ValueError(f"holozero_text: unknown metadata {unknown}; it reads {list(KNOWN)}")
    docs = documents(**{k: metadata[k] for k in KNOWN if metadata.get(k) is not None})
    texts = [as_text(name, doc) for name, doc in docs]
    return {"test": datasets.Dataset.from_dict({"text": texts, "document": [name for name, _ in docs]})}
