"""Control sources whose bits-per-byte floor is known, written to the cache as documents.

- ``uniform``: independent uniform bytes; the floor is exactly 8 bpb.
- ``markov``: an order-2 Markov chain over a small byte alphabet; the floor is its entropy
  rate, computed exactly from the chain (``markov2_chain(...).entropy_rate``).
- ``zlib`` (see ``byte_store``): the same documents, zlib-compressed: near-incompressible
  bytes carrying the same content.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .byte_store import default_cache_root
from .cache import build_once

CONTROLS = ("zlib", "uniform", "markov")


@dataclass
class Markov2:
    values: np.ndarray  # [A] the byte values used
    P: np.ndarray  # [A, A, A]: P[a, b, c] = p(next = c | previous two = a, b)
    entropy_rate: float  # bits per byte

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        A = len(self.values)
        cum = self.P.cumsum(-1)
        out = np.empty(n, dtype=np.int64)
        out[:2] = rng.integers(0, A, 2)
        u = rng.random(n)
        for i in range(2, n):
            out[i] = min(np.searchsorted(cum[out[i - 2], out[i - 1]], u[i], side="right"), A - 1)
        return self.values[out]


def markov2_chain(alphabet: int = 8, alpha: float = 0.3, seed: int = 0) -> Markov2:
    """Random transition tables (Dirichlet(alpha)) and their exact entropy rate
    H = Σ_ab π(a,b)·H(P[a,b]) with π the stationary distribution over pairs."""
    rng = np.random.default_rng(seed)
    values = rng.choice(256, size=alphabet, replace=False).astype(np.uint8)
    P = rng.dirichlet(np.full(alphabet, alpha), size=(alphabet, alphabet))
    pi = np.full((alphabet, alphabet), 1.0 / alphabet**2)
    for _ in range(100_000):  # power iteration on the pair chain (a, b) -> (b, c)
        new = np.einsum("ab,abc->bc", pi, P)
        if np.abs(new - pi).max() < 1e-15:
            break
        pi = new
    row_entropy = -(P * np.log2(np.where(P > 0, P, 1.0))).sum(-1)
    return Markov2(values, P, float((pi * row_entropy).sum()))


def synthetic_corpus(
    kind: str, documents: int = 32, doc_bytes: int = 32768, seed: int = 0, cache_root: str | os.PathLike | None = None
) -> tuple[Path, float]:
    """Folder of ``documents`` files of ``doc_bytes`` bytes each and the exact bpb floor."""
    if kind == "uniform":
        floor = 8.0
    elif kind == "markov":
        chain = markov2_chain(seed=seed)
        floor = chain.entropy_rate
    else:
        raise ValueError(f"synthetic control must be 'uniform' or 'markov', got {kind!r}")
    root = Path(cache_root or default_cache_root()) / "controls" / f"{kind}-{documents}x{doc_bytes}-s{seed}"

    def build(tmp: Path) -> None:
        for d in range(documents):
            rng = np.random.default_rng([seed, d])
            data = rng.integers(0, 256, doc_bytes) if kind == "uniform" else chain.sample(doc_bytes, rng)
            (tmp / f"{d:04d}.bin").write_bytes(data.astype(np.uint8).tobytes())
        (tmp / ".done").write_text(json.dumps({"kind": kind, "bpb_floor": floor}))

    return build_once(root, ".done", build), floor
