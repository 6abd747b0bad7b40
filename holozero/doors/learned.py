"""Learned byte doors: the standard byte embedding (MEGABYTE's patch embedder for slots) and
the hashed n-gram embedding on top of it (BLT's hash n-gram embeddings).

Both keep byte order inside a slot by address, as the zero door does: a slot is the
*concatenation* of its K bytes' vectors (each of width dim // K), not a sum or a mean. A
mean of per-byte embeddings plus per-position offsets would be a bag of bytes: the offsets
sum to one constant whatever the order.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..specials import NUM_IDS
from .base import Door

NGRAM_START = NUM_IDS  # stands for the positions before the window's first byte in an n-gram
_BASE = NUM_IDS + 1  # n-gram ids are base-260 numbers: exact in int64 up to n = 7
_PRIME = 2**31 - 1  # universal hashing modulus (Mersenne prime)
# One fixed (a, b) per n-gram size, a < 2^30 so code·a stays inside int64 for n ≤ 4.
_HASH_AB = {2: (1_000_003, 12_345), 3: (998_244_353, 67_891), 4: (1_000_000_007, 24_680)}


class ByteEmbedDoor(Door):
    """The standard learned byte embedding. Stream: a full-width table (259×dim). Slot: the
    concatenation of its K bytes' embeddings from a slot table of width dim // K (zero-padded
    to dim when K does not divide it). Learned input parameters: 259·dim + 259·(dim // K)."""

    name = "byte_embed"
    fixed = False
    slot_modules = ("slot_embed",)

    def __init__(self, K: int = 8, dim: int = 512, tail: str = "pad"):
        super().__init__(K, dim, tail)
        self.slot_width = dim // K
        if self.slot_width < 1:
            raise ValueError(f"{type(self).__name__}: K={K} bytes do not fit a slot of width dim={dim} (K ≤ dim)")
        self.stream_embed = nn.Embedding(NUM_IDS, dim)
        self.slot_embed = nn.Embedding(NUM_IDS, self.slot_width)

    @property
    def feat_dim(self) -> int:
        return 1  # the id itself: the tables are looked up when lifting, one table per path

    def features(self, ids: torch.Tensor) -> torch.Tensor:
        return ids.long().unsqueeze(-1)

    def embed_slot_bytes(self, feats: torch.Tensor) -> torch.Tensor:
        """[..., K, F] per-byte features -> [..., K, dim // K] per-byte slot vectors."""
        return self.slot_embed(feats[..., 0])

    def embed_stream_bytes(self, feats: torch.Tensor) -> torch.Tensor:
        return self.stream_embed(feats[..., 0])

    def lift_slots(self, slots: torch.Tensor) -> torch.Tensor:
        flat = self.embed_slot_bytes(slots).flatten(-2)  # byte k of the slot at columns k·w .. (k+1)·w
        return F.pad(flat, (0, self.dim - flat.shape[-1]))

    def lift_stream(self, feats: torch.Tensor) -> torch.Tensor:
        return self.embed_stream_bytes(feats)


def ngram_buckets(ids: torch.Tensor, n: int, buckets: int) -> torch.Tensor:
    """[..., L] ids -> [..., L] bucket of the n-gram ending at each position (causal: it reads
    ids i-n+1..i; positions before the first one read NGRAM_START). The n-gram is first an
    exact base-260 number, then hashed universally: ((code·a + b) mod p) mod buckets."""
    ids = ids.long()
    code = torch.zeros_like(ids)
    for j in range(n):  # id[i-j] · 260^j
        shifted = F.pad(ids, (j, 0), value=NGRAM_START)[..., : ids.shape[-1]]
        code = code + shifted * _BASE**j
    a, b = _HASH_AB[n]
    return (code * a + b) % _PRIME % buckets


class HashNgramDoor(ByteEmbedDoor):
    """``byte_embed`` plus hashed embeddings of the n-grams ending at each byte (n = 2..4, a
    fixed number of buckets per n), summed per byte — BLT's hash n-gram embeddings and the
    hashed bigrams of the strongest small byte models. Each path (slot width dim // K, stream
    width dim) has its own tables. Learned input parameters:
    (259 + len(ngrams)·buckets)·(dim + dim // K)."""

    name = "hash_ngram"
    slot_modules = ("slot_embed", "slot_hash")

    def __init__(
        self, K: int = 8, dim: int = 512, tail: str = "pad", ngrams: list[int] | None = None, buckets: int = 4096
    ):
        super().__init__(K, dim, tail)
        self.ngrams = tuple(ngrams) if ngrams is not None else (2, 3, 4)
        if not self.ngrams or any(n not in _HASH_AB for n in self.ngrams):
            raise ValueError(f"ngrams must be sizes among {sorted(_HASH_AB)}, got {list(self.ngrams)}")
        if buckets < 1:
            raise ValueError(f"buckets must be ≥ 1, got {buckets}")
        self.buckets = buckets
        self.stream_hash = nn.ModuleList(nn.Embedding(buckets, dim) for _ in self.ngrams)
        self.slot_hash = nn.ModuleList(nn.Embedding(buckets, self.slot_width) for _ in self.ngrams)

    @property
    def feat_dim(self) -> int:
        return 1 + len(self.ngrams)  # the id, then one bucket per n-gram size

    def features(self, ids: torch.Tensor) -> torch.Tensor:
        columns = [ids.long()] + [ngram_buckets(ids, n, self.buckets) for n in self.ngrams]
        return torch.stack(columns, dim=-1)

    def embed_slot_bytes(self, feats: torch.Tensor) -> torch.Tensor:
        out = self.slot_embed(feats[..., 0])
        for i, table in enumerate(self.slot_hash):
            out = out + table(feats[..., 1 + i])
        return out

    def embed_stream_bytes(self, feats: torch.Tensor) -> torch.Tensor:
        out = self.stream_embed(feats[..., 0])
        for i, table in enumerate(self.stream_hash):
            out = out + table(feats[..., 1 + i])
        return out

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, ngrams={list(self.ngrams)}, buckets={self.buckets}"
