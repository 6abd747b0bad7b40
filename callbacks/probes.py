"""The hard-negative probe suite (DESIGN.md §5), run every N validation rounds and in
``holozero test``. Each probe reports the mean per-item difference in bits per byte with a
95% t-interval over items (or R@1/R@5/MRR with chance beside them), logs to TensorBoard
as ``<stage>/probe/<name>/<figure>`` and writes a JSON file next to the checkpoints.

A probe that finds fewer than ``min_items`` items with a valid negative reports
``insufficient`` and no number.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.utilities import rank_zero_info, rank_zero_only
from torchaudio.functional import mu_law_encoding

from datamodules.sources import CaptionSource, SequenceSource
from holozero.specials import NUM_BYTES
from holozero.stats import mean_interval, retrieval_figures

SILENCE = int(mu_law_encoding(torch.tensor(0.0), 256))  # μ-law code of a zero sample
BLACK = 0


def _bpb(lm, batch: dict, chunk: int = 64) -> np.ndarray:
    """Per-window bits per byte over the stream's byte targets."""
    out = []
    for lo in range(0, batch["ids"].shape[0], chunk):
        nats, targets = lm.score({k: v[lo : lo + chunk] for k, v in batch.items()})
        is_byte = targets < NUM_BYTES
        out.append(((nats * is_byte).sum(-1) / is_byte.sum(-1).clamp_min(1) / math.log(2)).cpu().numpy())
    return np.concatenate(out) if out else np.zeros(0)


class CaptionProbes:
    """The captioned-window probes over a fixed subset of validation items."""

    def __init__(self, lm, source: CaptionSource, max_items: int, candidates: int, seed: int):
        self.lm, self.src, self.candidates = lm, source, candidates
        n = min(len(source), max_items)
        self.items = np.linspace(0, len(source) - 1, n).round().astype(np.int64)
        self.rng = np.random.default_rng(seed)
        self.own = _bpb(lm, source.conditioned(self.items))
        self.captions = [tuple(row) for row in source.stream]  # caption identity = its ids

    def _delta(self, valid: np.ndarray, **swap) -> list[float]:
        items = self.items[valid]
        if items.size == 0:
            return []
        return list(_bpb(self.lm, self.src.conditioned(items, **swap)) - self.own[valid])

    def _pick(self, pool_for) -> tuple[np.ndarray, np.ndarray]:
        """For each item, one seeded choice from ``pool_for(item)`` (or none)."""
        valid, chosen = [], []
        for i in self.items:
            pool = pool_for(int(i))
            valid.append(len(pool) > 0)
            chosen.append(int(self.rng.choice(pool)) if len(pool) else -1)
        return np.array(valid, dtype=bool), np.array(chosen)

    def same_class_wrong_instance(self) -> list[float]:
        labels = self.src.labels
        known = labels != "None"
        valid, donor = self._pick(
            lambda i: np.flatnonzero((labels == labels[i]) & known & (np.arange(len(labels)) != i)) if known[i] else []
        )
        return self._delta(valid, frame_from=donor[valid], audio_from=donor[valid])

    def _negative_caption(self, valid: np.ndarray, negatives: np.ndarray) -> list[float]:
        items = self.items[valid]
        if items.size == 0:
            return []
        return list(_bpb(self.lm, self.src.conditioned(items, captions=negatives[valid])) - self.own[valid])

    def same_length_caption(self) -> list[float]:
        lengths = (self.src.stream < NUM_BYTES).sum(1)
        valid, neg = self._pick(
            lambda i: [
                j for j in range(len(self.src)) if lengths[j] == lengths[i] and self.captions[j] != self.captions[i]
            ]
        )
        return self._negative_caption(valid, neg)

    def entropy_matched_caption(self, tolerance: float = 0.25) -> list[float]:
        """Negative caption whose bpb with the conditioning blanked is within ``tolerance`` of
        the true caption's: the model finds both equally easy without looking at the input."""
        distinct = {}
        for j, c in enumerate(self.captions):
            distinct.setdefault(c, j)
        reps = np.array(list(distinct.values()))
        blank = _bpb(self.lm, self.src.conditioned(reps, frame_fill=BLACK, audio_fill=SILENCE))
        by_caption = dict(zip(distinct, blank, strict=True))
        valid, neg = [], []
        for i in self.items:
            own = by_caption[self.captions[i]]
            diffs = [(abs(b - own), j) for c, j, b in zip(distinct, reps, blank, strict=True) if c != self.captions[i]]
            best = min(diffs, default=(math.inf, -1))
            valid.append(best[0] <= tolerance)
            neg.append(best[1])
        return self._negative_caption(np.array(valid, dtype=bool), np.array(neg))

    def blanked(self, part: str) -> list[float]:
        valid = self.src.has_part(part)[self.items]
        fill = {"frame_fill": BLACK} if part == "frame" else {"audio_fill": SILENCE}
        return self._delta(valid, **fill)

    def retrieval(self) -> tuple[list[int], int]:
        distinct = {}
        for j, c in enumerate(self.captions):
            distinct.setdefault(c, j)
        if len(distinct) < self.candidates:
            return [], len(distinct)
        ranks = []
        for k, i in enumerate(self.items):
            others = [j for c, j in distinct.items() if c != self.captions[i]]
            negs = self.rng.choice(others, size=self.candidates - 1, replace=False)
            scores = _bpb(self.lm, self.src.conditioned(np.full(len(negs), i), captions=negs))
            own = self.own[k]
            ranks.append(1 + int((scores <= own).sum()))  # ties count against the true caption
        return ranks, len(distinct)


def shifted_window(lm, source: SequenceSource, max_items: int) -> list[float]:
    """The prefix taken from earlier in the same item (shifted by half the context, in
    whole aligned units) with the same stream: how much the model uses the adjacent past."""
    context = source.window - source.stream_len
    shift = max(source.align, (context // 2) // source.align * source.align)
    js = np.linspace(0, source.total - 1, min(source.total, max_items)).round().astype(np.int64)
    true_rows, shifted_rows = [], []
    for j in js:
        item, start = source.locate(int(j))
        if start < shift:
            continue
        data = source.items[item]
        row = data[start : start + source.window]
        moved = np.concatenate([data[start - shift : start - shift + context], row[context:]])
        true_rows.append(row)
        shifted_rows.append(moved)
    if not true_rows:
        return []
    from datamodules.sources import as_batch

    true = _bpb(lm, as_batch(np.stack(true_rows), source.stream_len, source.segment))
    moved = _bpb(lm, as_batch(np.stack(shifted_rows), source.stream_len, source.segment))
    return list(moved - true)


def run_probes(lm, sources: dict, max_items: int = 64, candidates: int = 8, min_items: int = 20, seed: int = 0) -> dict:
    """Every probe that applies to these validation sources -> {name: figures}."""
    results: dict[str, dict] = {}

    def report(name: str, deltas: list[float]) -> None:
        if len(deltas) < min_items:
            results[name] = {"status": "insufficient", "valid_items": len(deltas), "needed": min_items}
        else:
            results[name] = {"status": "ok", "unit": "bits/byte"} | mean_interval(deltas)

    for name, source in sources.items():
        if isinstance(source, CaptionSource):
            probes = CaptionProbes(lm, source, max_items, candidates, seed)
            report("same_class_wrong_instance", probes.same_class_wrong_instance())
            report("same_length_caption", probes.same_length_caption())
            report("entropy_matched_caption", probes.entropy_matched_caption())
            report("blank_audio", probes.blanked("audio"))
            report("blank_frame", probes.blanked("frame"))
            ranks, distinct = probes.retrieval()
            if len(ranks) < min_items:
                results["retrieval"] = {
                    "status": "insufficient",
                    "valid_items": len(ranks),
                    "needed": min_items,
                    "distinct_captions": distinct,
                    "candidates": candidates,
                }
            else:
                results["retrieval"] = {"status": "ok"} | retrieval_figures(ranks, candidates)
        elif isinstance(source, SequenceSource):
            report(f"shifted_window/{name}", shifted_window(lm, source, max_items))
    return results


def format_table(results: dict) -> str:
    lines = ["| probe | items | figure | 95% interval / chance |", "|---|---|---|---|"]
    for name, r in results.items():
        if r["status"] != "ok":
            lines.append(f"| {name} | {r['valid_items']} | insufficient (needs {r['needed']}) | |")
        elif "MRR" in r:
            lines.append(
                f"| {name} | {r['n']} | R@1 {r['R@1']:.3f}, R@5 {r['R@5']:.3f}, MRR {r['MRR']:.3f} "
                f"| chance {r['chance_R@1']:.3f}, {r['chance_R@5']:.3f}, {r['chance_MRR']:.3f} "
                f"({r['candidates']} candidates) |"
            )
        else:
            lines.append(f"| {name} | {r['n']} | {r['mean']:+.4f} bits/byte | [{r['low']:+.4f}, {r['high']:+.4f}] |")
    return "\n".join(lines)


class ProbeSuite(Callback):
    """Args: every_n_val (run after every n-th validation; 0 = only at test), max_items,
    candidates (retrieval), min_items (fewer valid items -> insufficient), seed."""

    def __init__(
        self, every_n_val: int = 3, max_items: int = 64, candidates: int = 8, min_items: int = 20, seed: int = 0
    ):
        self.every_n_val, self.max_items, self.candidates = every_n_val, max_items, candidates
        self.min_items, self.seed, self.rounds = min_items, seed, 0
        self.last: dict = {}

    def _run(self, trainer, lm, stage: str) -> None:
        sources = getattr(trainer.datamodule, "val_sources", {}) or {}
        self.last = run_probes(lm, sources, self.max_items, self.candidates, self.min_items, self.seed)
        for name, r in self.last.items():
            if r["status"] == "ok":
                for key, value in r.items():
                    if isinstance(value, float) and math.isfinite(value):
                        lm.log(f"{stage}/probe/{name}/{key}", value)
        self._write(trainer, stage)

    @rank_zero_only
    def _write(self, trainer, stage: str) -> None:
        ckpt = trainer.checkpoint_callback
        folder = Path(ckpt.dirpath if ckpt is not None and ckpt.dirpath else trainer.log_dir or ".") / "probes"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{stage}-step{trainer.global_step}.json"
        path.write_text(json.dumps({"stage": stage, "step": trainer.global_step, "probes": self.last}, indent=1))
        if stage == "test":
            rank_zero_info(f"holozero probes (step {trainer.global_step}, {path}):\n{format_table(self.last)}")

    def on_validation_epoch_end(self, trainer, lm) -> None:
        if trainer.sanity_checking or self.every_n_val <= 0:
            return
        self.rounds += 1
        if self.rounds % self.every_n_val == 0:
            self._run(trainer, lm, "val")

    def on_test_epoch_end(self, trainer, lm) -> None:
        self._run(trainer, lm, "test")
