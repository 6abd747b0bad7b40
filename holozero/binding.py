"""The binding gap over captioned items (DESIGN.md §5): each item's caption is scored with its
own conditioning and with the frame, the audio, or both taken from a donor item whose caption
differs (holozero.donors: a fixed derangement; never an item of the same caption, which would
explain the caption as well as the item's own). The difference is how much the caption depends
on the conditioning the model was given."""

from __future__ import annotations

import numpy as np

from .binding_metric import BindingGap
from .donors import caption_classes, different_caption_donors
from .protocols import CaptionWindows, Scorer

# what each variant swaps, and so which parts an item (and its donor) must really have
SWAPS = {"both": ("frame", "audio"), "audio": ("audio",), "frame": ("frame",)}


def gap_pairs(source: CaptionWindows, parts: tuple[str, ...], max_items: int, seed: int = 0):
    """(items, donors) of one variant: up to ``max_items`` items spread evenly over those that
    have every part in ``parts``, and for each the donor of those parts: another of these items
    whose caption differs (``different_caption_donors``). No donors when the items have fewer
    than 2 distinct captions."""
    has = np.ones(len(source), dtype=bool)
    for part in parts:
        has &= source.has_part(part)
    eligible = np.flatnonzero(has)
    n = min(len(eligible), max_items)
    items = eligible[np.linspace(0, len(eligible) - 1, n).round().astype(np.int64)]
    classes = caption_classes(source.stream[items])
    if len(np.unique(classes)) < 2:
        return items, items[:0]
    return items, items[different_caption_donors(classes, seed)]


def binding_gap(
    scorer: Scorer,
    source: CaptionWindows,
    max_items: int = 512,
    batch_size: int = 64,
    seed: int = 0,
    min_items: int = 20,
    rank: int = 0,
    world_size: int = 1,
) -> dict:
    """The gap per variant over (up to ``max_items``) items of ``source`` that have every part
    the variant swaps: each item's caption is scored with its own conditioning and with those
    parts taken from a donor among the same items whose caption differs (``gap_pairs``).

    Under DDP, rank r of W scores items r, r+W, ... and the metric sums the states, so every
    item counts once. A variant over fewer than ``min_items`` items is ``insufficient`` and a
    variant no item can take (no frame in the data, or all its items share one caption, so no
    donor has another) is ``n/a``: neither is a number.
    Returns ``{"values": {tag: float}, "status": {variant: "ok" | "insufficient" | "n/a"},
    "items": {variant: n}}``.
    """
    metric = BindingGap().to(scorer.device)
    status, counts = {}, {}
    for variant, parts in SWAPS.items():
        items, donors = gap_pairs(source, parts, max_items, seed)
        n = counts[variant] = len(items)
        if n == 0:
            status[variant] = "n/a"
            continue
        if n < max(min_items, 2):
            status[variant] = "insufficient"
            continue
        if len(donors) == 0:  # one caption for every item: no mismatch to score
            status[variant] = "n/a"
            continue
        status[variant] = "ok"
        mine = np.arange(rank, n, world_size)  # this process's share; the metric sums the shares
        swap = {f"{p}_from": None for p in ("frame", "audio")}
        for lo in range(0, len(mine), batch_size):
            it, dn = items[mine[lo : lo + batch_size]], donors[mine[lo : lo + batch_size]]
            matched, targets = scorer.score(source.conditioned(it))
            swapped = scorer.score(source.conditioned(it, **(swap | {f"{p}_from": dn for p in parts})))[0]
            metric.update(variant, matched, swapped, targets)
    # nothing scored: no compute (torchmetrics would warn of one before any update); the status
    # is a function of the source alone, so every process skips it together under DDP
    scored = "ok" in status.values()
    values = {k: float(v) for k, v in metric.compute().items()} if scored else {}
    return {"values": values, "status": status, "items": counts}
