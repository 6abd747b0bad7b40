"""Batches of windows: seeded random training batches that resume exactly, and fixed
validation windows whose number is set by a byte budget, not by the batch size.

A *source* (see ``sources.py``) knows how to cut windows; this module only decides which
ones. Batches are dicts ``{"ids": LongTensor [B, C+S], "segment": LongTensor [B, S]}``.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info


class Source(Protocol):
    def sample(self, rng: np.random.Generator, n: int) -> dict: ...

    def fixed_count(self, budget_bytes: int) -> int: ...

    def fixed(self, i: int, count: int) -> dict: ...


class SeededBatches(IterableDataset):
    """Endless training batches; batch g is a pure function of (seed, g).

    Rank r of W processes takes g = r, r+W, r+2W, ...; DataLoader worker i of n takes every
    n-th of those and the loader's round-robin restores the order. So the sequence does not
    depend on the number of workers, ranks never share a batch, and resuming needs only the
    number of batches already consumed (``start``). ``pick(rng)`` chooses the source of a
    batch (the mixture's proportions); with one source it is always that one.
    """

    def __init__(
        self,
        sources: dict[str, Source],
        weights: dict[str, float],
        batch_size: int,
        seed: int,
        rank: int = 0,
        world_size: int = 1,
    ):
        super().__init__()
        names = [n for n in sources if weights.get(n, 0) > 0]
        if not names:
            raise ValueError("no data source has a positive proportion")
        total = sum(weights[n] for n in names)
        self.names, self.probs = names, np.array([weights[n] / total for n in names])
        self.sources, self.batch_size, self.seed = sources, batch_size, seed
        self.rank, self.world_size, self.start = rank, world_size, 0

    def batch(self, g: int) -> dict:
        rng = np.random.default_rng([self.seed, g])
        name = self.names[rng.choice(len(self.names), p=self.probs)] if len(self.names) > 1 else self.names[0]
        return self.sources[name].sample(rng, self.batch_size)

    def __iter__(self):
        info = get_worker_info()
        worker, n_workers = (info.id, info.num_workers) if info is not None else (0, 1)
        t = self.start + worker
        while True:
            yield self.batch(self.rank + self.world_size * t)
            t += n_workers


class ResumableLoader(DataLoader):
    """A DataLoader over SeededBatches that Lightning checkpoints: ``state_dict`` /
    ``load_state_dict`` carry the number of batches training has used, so a resumed run
    continues with the next unseen batch instead of restarting the sequence.

    Lightning's fetcher holds one batch ahead of the step it runs, so the count handed out
    overshoots at checkpoint time; ``progress`` (the trainer's count of completed training
    batches) gives the exact figure when a trainer is attached.
    """

    def __init__(self, dataset: SeededBatches, num_workers: int = 0, progress=None, **kwargs):
        super().__init__(dataset, batch_size=None, num_workers=num_workers, **kwargs)
        self.consumed, self.progress = 0, progress

    def __iter__(self):
        self.dataset.start = self.consumed  # read when workers start, so set it first
        for batch in super().__iter__():
            self.consumed += 1
            yield batch

    def state_dict(self) -> dict:
        return {"batches": self.progress() if self.progress is not None else self.consumed}

    def load_state_dict(self, state: dict) -> None:
        self.consumed = int(state["batches"])


class FixedWindows(IterableDataset):
    """The validation windows of one source, in batches: the same windows in the same order
    whatever the batch size or seed; how many is ``source.fixed_count(budget_bytes)``.

    Under DDP, rank r of W takes windows r, r+W, ... — every window exactly once, no
    padding duplicates (a DistributedSampler would repeat some to even out the ranks, and
    the repeats would bias bpb). Iterable, so Lightning does not replace the sampling.
    """

    def __init__(self, source: Source, budget_bytes: int, batch_size: int, rank: int = 0, world_size: int = 1):
        super().__init__()
        self.source, self.count = source, source.fixed_count(budget_bytes)
        self.batch_size, self.rank, self.world_size = batch_size, rank, world_size

    def windows(self) -> list[int]:
        return list(range(self.rank, self.count, self.world_size))

    def __iter__(self):
        mine = self.windows()
        for lo in range(0, len(mine), self.batch_size):
            parts = [self.source.fixed(i, self.count) for i in mine[lo : lo + self.batch_size]]
            yield {k: torch.cat([p[k] for p in parts]) for k in parts[0]}


def fixed_loader(source: Source, budget_bytes: int, batch_size: int, rank: int = 0, world_size: int = 1) -> DataLoader:
    return DataLoader(FixedWindows(source, budget_bytes, batch_size, rank, world_size), batch_size=None)
