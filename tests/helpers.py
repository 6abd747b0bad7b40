"""Shared by the end-to-end tests: run the CLI in-process and read TensorBoard's own events."""

from __future__ import annotations

import glob
from pathlib import Path

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from holozero.cli import main


def run_cli(args: list[str]) -> None:
    main(args=args)


def scalars(version_dir: str | Path) -> dict[str, list[tuple[int, float]]]:
    events = glob.glob(str(Path(version_dir) / "events.out.tfevents.*"))
    assert events, f"no event file under {version_dir}"
    acc = EventAccumulator(str(version_dir))
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def write_docs(folder: Path, docs: list[np.ndarray]) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    for i, doc in enumerate(docs):
        (folder / f"doc{i:03d}.bin").write_bytes(np.asarray(doc, dtype=np.uint8).tobytes())
    return [str(folder)]


def markov2_source(alphabet: int, alpha: float, seed: int):
    """An order-2 Markov chain over `alphabet` byte values and its exact entropy rate (bits).

    Returns (sample(n, rng) -> uint8 array, H)."""
    rng = np.random.default_rng(seed)
    values = rng.choice(256, size=alphabet, replace=False).astype(np.uint8)
    P = rng.dirichlet(np.full(alphabet, alpha), size=(alphabet, alphabet))  # P[a, b] = p(next | a, b)
    # stationary distribution over pairs (a, b) -> (b, c) by power iteration
    pi = np.full((alphabet, alphabet), 1.0 / alphabet**2)
    for _ in range(10_000):
        new = np.einsum("ab,abc->bc", pi, P)
        if np.abs(new - pi).max() < 1e-15:
            break
        pi = new
    row_entropy = -(P * np.log2(np.where(P > 0, P, 1.0))).sum(-1)
    H = float((pi * row_entropy).sum())

    def sample(n: int, rng: np.random.Generator) -> np.ndarray:
        cum = P.cumsum(-1)
        out = np.empty(n, dtype=np.int64)
        out[:2] = rng.integers(0, alphabet, 2)
        u = rng.random(n)
        for i in range(2, n):
            out[i] = min(np.searchsorted(cum[out[i - 2], out[i - 1]], u[i], side="right"), alphabet - 1)
        return values[out]

    return sample, H
