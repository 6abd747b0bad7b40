"""The hard-negative probe suite (DESIGN.md §5): how much a model's caption (or continuation)
bits depend on the right conditioning. Each probe reports the mean per-item difference in bits
per byte with a 95% t-interval over items; caption retrieval reports R@1/R@5/MRR with its
empirical null beside them: the same model's figures with the media blanked (not the 1/N of a
random ranking, which a scorer that reads only the captions does not get).

A probe that finds fewer than ``min_items`` items with a valid negative reports
``insufficient`` and no number. ``callbacks.probes.ProbeSuite`` runs these during training.
"""

from __future__ import annotations

import math

import numpy as np

from .losses import window_bpb
from .protocols import CaptionWindows, Scorer, SequenceWindows
from .segments import as_batch
from .specials import NUM_BYTES
from .stats import mean_interval, retrieval_figures

SILENCE = 128  # μ-law code of a zero sample, int((0 + 1) / 2 · 255 + 0.5), as torchaudio encodes it
BLACK = 0


def _per_window(lm: Scorer, batch: dict, reduce, chunk: int = 64) -> np.ndarray:
    out = []
    for lo in range(0, batch["ids"].shape[0], chunk):
        nats, targets = lm.score({k: v[lo : lo + chunk] for k, v in batch.items()})
        out.append(reduce(nats, targets).cpu().numpy())
    return np.concatenate(out) if out else np.zeros(0)


def _bpb(lm: Scorer, batch: dict) -> np.ndarray:
    """Per-window bits per byte over the stream's byte targets."""
    return _per_window(lm, batch, window_bpb)


def _bits(lm: Scorer, batch: dict) -> np.ndarray:
    """Per-window total bits over the stream's byte targets."""
    return _per_window(lm, batch, lambda nats, targets: (nats * (targets < NUM_BYTES)).sum(-1) / math.log(2))


class CaptionProbes:
    """The captioned-window probes over a fixed subset of validation items."""

    def __init__(self, lm: Scorer, source: CaptionWindows, max_items: int, candidates: int, seed: int):
        self.lm, self.src, self.candidates, self.max_items = lm, source, candidates, max_items
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
        known = np.array([label is not None for label in labels], dtype=bool)
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

    def retrieval(self) -> tuple[list[int], list[int], int]:
        """(ranks, null ranks, distinct captions): the 1-based rank of each item's caption by its
        total bits among ``candidates`` distinct captions of the same byte length (its own and
        seeded negatives), under the item's conditioning and, for the null, under the same
        conditioning with the media blanked (black frame, silence). Equal lengths make total
        bits and bits per byte one ranking, and leave a scorer that reads only the captions
        nothing to gain or lose by length (ranked per byte among negatives of any length, it
        scored below 1/N: long captions are cheaper per byte); whatever the caption prior
        still gives it, the null shows. The items (up to ``max_items``, spread evenly) are those
        whose length has ``candidates`` distinct captions. A tie counts against the true caption."""
        distinct = {}
        for j, c in enumerate(self.captions):
            distinct.setdefault(c, j)
        reps = np.array(list(distinct.values()))
        lengths = (self.src.stream < NUM_BYTES).sum(1)
        per_length = np.bincount(lengths[reps], minlength=lengths.max() + 1)
        eligible = np.flatnonzero(per_length[lengths] >= self.candidates)
        n = min(len(eligible), self.max_items)
        if n == 0:
            return [], [], len(distinct)
        rows = []
        for i in eligible[np.linspace(0, len(eligible) - 1, n).round().astype(np.int64)]:
            pool = [j for j in reps if lengths[j] == lengths[i] and self.captions[j] != self.captions[i]]
            rows.append(np.concatenate([[i], self.rng.choice(pool, size=self.candidates - 1, replace=False)]))
        captions = np.stack(rows)  # [items, candidates]: the true caption first
        items = np.repeat(captions[:, 0], self.candidates)

        def ranks(**blank) -> list[int]:
            bits = _bits(self.lm, self.src.conditioned(items, captions=captions.reshape(-1), **blank))
            bits = bits.reshape(-1, self.candidates)
            return [1 + int(r) for r in (bits[:, 1:] <= bits[:, :1]).sum(1)]

        return ranks(), ranks(frame_fill=BLACK, audio_fill=SILENCE), len(distinct)


def shifted_window(lm: Scorer, source: SequenceWindows, max_items: int) -> list[float]:
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
    true = _bpb(lm, as_batch(np.stack(true_rows), source.stream_len, source.segment))
    moved = _bpb(lm, as_batch(np.stack(shifted_rows), source.stream_len, source.segment))
    return list(moved - true)


def run_probes(
    lm: Scorer, sources: dict, max_items: int = 64, candidates: int = 8, min_items: int = 20, seed: int = 0
) -> dict:
    """Every probe that applies to these validation sources -> {name: figures}."""
    results: dict[str, dict] = {}

    def report(name: str, deltas: list[float]) -> None:
        if len(deltas) < min_items:
            results[name] = {"status": "insufficient", "valid_items": len(deltas), "needed": min_items}
        else:
            results[name] = {"status": "ok", "unit": "bits/byte"} | mean_interval(deltas)

    for name, source in sources.items():
        if isinstance(source, CaptionWindows):
            probes = CaptionProbes(lm, source, max_items, candidates, seed)
            report("same_class_wrong_instance", probes.same_class_wrong_instance())
            report("same_length_caption", probes.same_length_caption())
            report("entropy_matched_caption", probes.entropy_matched_caption())
            report("blank_audio", probes.blanked("audio"))
            report("blank_frame", probes.blanked("frame"))
            ranks, null_ranks, distinct = probes.retrieval()
            if len(ranks) < min_items:
                results["retrieval"] = {
                    "status": "insufficient",
                    "valid_items": len(ranks),
                    "needed": min_items,
                    "distinct_captions": distinct,
                    "candidates": candidates,
                }
            else:
                null = retrieval_figures(null_ranks, candidates)  # the same items and candidates, media blanked
                results["retrieval"] = {"status": "ok"} | retrieval_figures(ranks, candidates)
                results["retrieval"] |= {f"null_{k}": null[k] for k in ("R@1", "R@5", "MRR")}
        elif isinstance(source, SequenceWindows):
            report(f"shifted_window/{name}", shifted_window(lm, source, max_items))
    return results


def format_table(results: dict) -> str:
    lines = ["| probe | items | figure | 95% interval / null |", "|---|---|---|---|"]
    for name, r in results.items():
        if r["status"] != "ok":
            lines.append(f"| {name} | {r['valid_items']} | insufficient (needs {r['needed']}) | |")
        elif "MRR" in r:
            lines.append(
                f"| {name} | {r['n']} | R@1 {r['R@1']:.3f}, R@5 {r['R@5']:.3f}, MRR {r['MRR']:.3f} "
                f"| media blanked: R@1 {r['null_R@1']:.3f}, R@5 {r['null_R@5']:.3f}, MRR {r['null_MRR']:.3f} "
                f"({r['candidates']} candidates of the caption's length) |"
            )
        else:
            lines.append(f"| {name} | {r['n']} | {r['mean']:+.4f} bits/byte | [{r['low']:+.4f}, {r['high']:+.4f}] |")
    return "\n".join(lines)
