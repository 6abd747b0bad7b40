"""Windows over an id stream: random training batches that resume exactly, and a fixed
validation set whose size is a byte budget, not a number of batches.

A window is ``context + stream`` consecutive ids; batches are dicts
``{"ids": LongTensor [B, C+S], "segment": LongTensor [B, S]}``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, IterableDataset, get_worker_info


def window_batch(stream: np.ndarray, starts: np.ndarray, window: int, stream_len: int, segment: int) -> dict:
    idx = starts[:, None] + np.arange(window)[None, :]
    ids = torch.from_numpy(np.asarray(stream[idx], dtype=np.int64))
    return {"ids": ids, "segment": torch.full((len(starts), stream_len), segment, dtype=torch.long)}


class TrainWindows(IterableDataset):
    """Endless random windows, one whole batch per item.

    Batch g's window starts are a pure function of (seed, g), drawn uniformly over every
    valid start. Rank r of W processes takes g = r, r+W, r+2W, ...; DataLoader worker i of n
    takes every n-th of those, and the loader's round-robin restores the order. So the batch
    sequence does not depend on the number of workers, ranks never share a batch, and
    resuming needs only the number of batches already consumed (``start``).
    """

    def __init__(
        self,
        stream,
        batch_size: int,
        window: int,
        stream_len: int,
        seed: int,
        rank: int = 0,
        world_size: int = 1,
        segment: int = 0,
    ):
        super().__init__()
        self.stream, self.batch_size, self.window, self.stream_len = stream, batch_size, window, stream_len
        self.seed, self.rank, self.world_size, self.segment = seed, rank, world_size, segment
        self.start = 0
        self.max_start = len(stream) - window
        if self.max_start < 0:
            raise ValueError(f"the training stream has {len(stream)} ids, fewer than one window of {window}")

    def batch(self, g: int) -> dict:
        rng = np.random.default_rng([self.seed, g])
        starts = rng.integers(0, self.max_start + 1, size=self.batch_size)
        return window_batch(self.stream, starts, self.window, self.stream_len, self.segment)

    def __iter__(self):
        info = get_worker_info()
        worker, n_workers = (info.id, info.num_workers) if info is not None else (0, 1)
        t = self.start + worker
        while True:
            yield self.batch(self.rank + self.world_size * t)
            t += n_workers


class ResumableLoader(DataLoader):
    """A DataLoader over TrainWindows that Lightning checkpoints: it has ``state_dict`` /
    ``load_state_dict`` (the number of batches handed out), so a resumed run continues
    with the next unseen batch instead of restarting the sequence."""

    def __init__(self, dataset: TrainWindows, num_workers: int = 0, **kwargs):
        super().__init__(dataset, batch_size=None, num_workers=num_workers, **kwargs)
        self.consumed = 0

    def __iter__(self):
        self.dataset.start = self.consumed  # read when workers are started, so set it first
        for batch in super().__iter__():
            self.consumed += 1
            yield batch

    def state_dict(self) -> dict:
        return {"batches": self.consumed}

    def load_state_dict(self, state: dict) -> None:
        self.consumed = int(state["batches"])


class FixedWindows(Dataset):
    """ceil(budget_bytes / S) windows at evenly spaced starts: the same windows, in the same
    order, whatever the batch size or seed."""

    def __init__(self, stream, window: int, stream_len: int, budget_bytes: int, segment: int = 0):
        span = len(stream) - window
        if span < 0:
            raise ValueError(f"the validation stream has {len(stream)} ids, fewer than one window of {window}")
        n = max(1, math.ceil(budget_bytes / stream_len))
        self.starts = np.linspace(0, span, n).round().astype(np.int64) if n > 1 else np.zeros(1, dtype=np.int64)
        self.stream, self.window, self.stream_len, self.segment = stream, window, stream_len, segment

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, i: int) -> dict:
        batch = window_batch(self.stream, self.starts[i : i + 1], self.window, self.stream_len, self.segment)
        return {k: v[0] for k, v in batch.items()}
