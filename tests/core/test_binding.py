"""Binding gap and probes against hand-built models whose dependence on the input is known."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from helpers import FRAME, tiny_captions
from hypothesis import given, settings
from hypothesis import strategies as st

from datamodules.sources import SequenceSource
from holozero.binding import SWAPS, binding_gap, gap_pairs
from holozero.binding_metric import BindingGap
from holozero.donors import different_caption_donors, fixed_derangement
from holozero.probes import format_table, run_probes
from holozero.specials import EOS, NUM_BYTES, PAD


class FakeLM:
    """score(): 1 bit per caption byte when the conditioning 'explains' the caption, else
    ``miss`` bits; reads the frame when ``frame`` and the audio when ``audio``."""

    device = torch.device("cpu")

    def __init__(self, frame: bool, audio: bool, miss: float = 3.0):
        self.frame, self.audio, self.miss = frame, audio, miss

    def score(self, batch):
        ids = batch["ids"]
        S = batch["segment"].shape[1]
        targets = ids[:, -S:]
        cap = targets[:, :1]
        ok = torch.ones(ids.shape[0], 1, dtype=torch.bool)
        if self.frame:
            ok &= ids[:, :1] == cap
        if self.audio:
            ok &= ids[:, FRAME + 1 : FRAME + 2] == cap + 90
        bits = torch.where(ok, 1.0, self.miss).expand(-1, S)
        return bits * math.log(2), targets


def test_gap_is_exact_for_a_model_that_reads_the_frame():
    out = binding_gap(FakeLM(frame=True, audio=False), tiny_captions(40))
    values = out["values"]
    assert values["binding_gap"] == pytest.approx(2.0)  # 3 bits mismatched - 1 bit matched
    assert values["binding_gap/frame"] == pytest.approx(2.0)
    assert values["binding_gap/audio"] == pytest.approx(0.0)  # it never reads the audio
    assert values["binding_gap/both/low"] == pytest.approx(2.0) and values["binding_gap/both/items"] == 40
    assert values["binding_gap/both/item_mean/high"] == pytest.approx(2.0)
    assert out["status"] == {"both": "ok", "audio": "ok", "frame": "ok"}


def test_gap_is_zero_for_a_model_that_ignores_the_conditioning():
    values = binding_gap(FakeLM(frame=False, audio=False), tiny_captions(40))["values"]
    for key in ("binding_gap", "binding_gap/audio", "binding_gap/frame"):
        assert values[key] == 0.0


def test_gap_needs_both_parts_when_the_model_needs_both():
    values = binding_gap(FakeLM(frame=True, audio=True, miss=5.0), tiny_captions(30))["values"]
    assert values["binding_gap/audio"] == pytest.approx(4.0) and values["binding_gap/frame"] == pytest.approx(4.0)


def test_a_variant_no_item_can_take_is_not_a_number():
    """No frame in the data: the frame (and both) variants are n/a, not 0 with interval [0, 0];
    fewer than min_items items is insufficient."""
    src = tiny_captions(30)
    src.prefix[:, :FRAME] = PAD  # audio only
    out = binding_gap(FakeLM(frame=False, audio=True), src)
    assert out["status"] == {"both": "n/a", "audio": "ok", "frame": "n/a"}
    assert "binding_gap/frame" not in out["values"] and "binding_gap" not in out["values"]
    assert out["values"]["binding_gap/audio"] == pytest.approx(2.0)
    few = binding_gap(FakeLM(frame=True, audio=False), tiny_captions(10), min_items=20)
    assert few["status"]["frame"] == "insufficient" and few["values"] == {} and few["items"]["frame"] == 10


def test_no_metric_warning_when_no_variant_is_scored():
    """Every variant insufficient or n/a: nothing is computed, so torchmetrics has nothing to warn
    about (it warned "compute ... called before the update" on every such validation)."""
    import warnings

    for src, min_items in ((tiny_captions(10), 20), (tiny_captions(30, caption_values=[7] * 30), 20)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = binding_gap(FakeLM(frame=True, audio=False), src, min_items=min_items)
        assert out["values"] == {} and "ok" not in out["status"].values()


def test_items_are_sharded_over_processes_and_summed_once():
    """Two ranks score disjoint halves; their summed metric states equal one process's (the
    interval and the item count are not those of every item counted twice)."""
    from holozero.binding import SWAPS

    src, lm = tiny_captions(41), FakeLM(frame=True, audio=False, miss=2.0)
    one = BindingGap()
    halves = [BindingGap(), BindingGap()]
    for variant, parts in SWAPS.items():
        n = len(src)
        items = np.arange(n)
        donors = items[fixed_derangement(n, 0)]
        for metric, mine in ((one, items), (halves[0], items[0::2]), (halves[1], items[1::2])):
            matched, targets = lm.score(src.conditioned(mine))
            swap = {f"{p}_from": donors[mine] for p in parts}
            metric.update(variant, matched, lm.score(src.conditioned(mine, **swap))[0], targets)
    halves[0].merge_state(halves[1])  # the states reduced as DDP reduces them (dist_reduce_fx)
    a, b = one.compute(), halves[0].compute()
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k]) for k in a)
    assert b["binding_gap/frame/items"] == 41
    rank0 = binding_gap(lm, src, rank=0, world_size=2, min_items=2)
    assert rank0["values"]["binding_gap/frame/items"] == 21  # this process's share only, before the sum


def test_metric_sums_and_both_intervals_by_hand():
    m = BindingGap()
    ln2 = math.log(2)
    targets = torch.tensor([[65, 66, EOS], [67, EOS, PAD]])
    matched = torch.tensor([[1.0, 1.0, 9.0], [2.0, 9.0, 0.0]]) * ln2
    both = torch.tensor([[2.0, 4.0, 9.0], [5.0, 9.0, 0.0]]) * ln2
    m.update("both", matched, both, targets)
    out = m.compute()
    t1 = 12.706204736  # t(0.975, 1)
    # pooled by bytes: matched 1+1+2 = 4 bits, mismatched 2+4+5 = 11 bits over 3 bytes; per item
    # D = 4 and 3 extra bits over n = 2 and 1 bytes: residuals D - (7/3)·n = -2/3, +2/3, their
    # variance 8/9, the standard error √(8/9 / 2) / (3/2 bytes an item) = 4/9
    assert out["binding_gap"].item() == pytest.approx(7 / 3)
    assert out["binding_gap/both/low"].item() == pytest.approx(7 / 3 - t1 * 4 / 9, rel=1e-6)
    assert out["binding_gap/both/high"].item() == pytest.approx(7 / 3 + t1 * 4 / 9, rel=1e-6)
    # per item: (6-2)/2 = 2 and (5-2)/1 = 3 -> mean 2.5, sd of (2, 3) = √0.5
    assert out["binding_gap/both/item_mean"].item() == pytest.approx(2.5)
    half = t1 * math.sqrt(0.5) / math.sqrt(2)
    assert out["binding_gap/both/item_mean/low"].item() == pytest.approx(2.5 - half, rel=1e-6)
    assert "binding_gap/audio" not in out


def test_each_point_stands_inside_its_own_interval():
    """Long captions with small gaps, short ones with large: the byte-pooled gap falls below the
    item mean's interval (it did: 0.571 beside [0.637, 0.860] on a quickstart run). Its own
    interval is the ratio estimator's, checked against numpy on the per-item figures."""
    rng = np.random.default_rng(0)
    lengths = rng.integers(2, 20, size=60)
    S = 24
    targets = torch.full((60, S), PAD)
    matched, swapped = torch.zeros(60, S), torch.zeros(60, S)
    for k, n in enumerate(lengths):
        targets[k, :n], targets[k, n] = 65, EOS
        matched[k, :n] = 1.0
        swapped[k, :n] = 1.0 + 4.0 / n + rng.normal(0, 0.3)  # the extra bits shrink per byte with length
    m = BindingGap()
    m.update("audio", matched * math.log(2), swapped * math.log(2), targets)
    out = {k: v.item() for k, v in m.compute().items()}
    gap, mean = out["binding_gap/audio"], out["binding_gap/audio/item_mean"]
    d = ((swapped - matched) * (targets < NUM_BYTES)).sum(1).numpy().astype(np.float64)
    n = lengths.astype(np.float64)
    assert gap == pytest.approx(d.sum() / n.sum()) and mean == pytest.approx((d / n).mean())
    se = np.std(d - gap * n, ddof=1) / np.sqrt(60) / n.mean()
    t59 = 2.000995378  # t(0.975, 59)
    assert out["binding_gap/audio/low"] == pytest.approx(gap - t59 * se, rel=1e-6)
    assert out["binding_gap/audio/high"] == pytest.approx(gap + t59 * se, rel=1e-6)
    assert not out["binding_gap/audio/item_mean/low"] <= gap  # the two figures really differ here
    assert out["binding_gap/audio/low"] < gap < out["binding_gap/audio/high"]
    assert out["binding_gap/audio/item_mean/low"] < mean < out["binding_gap/audio/item_mean/high"]


def _class_frames(n: int, classes: int):
    """Items whose frame byte is their caption byte: two items of one caption share the frame
    value (the class), so a model that reads the frame explains a caption from any item of its class."""
    values = [10 + i % classes for i in range(n)]
    src = tiny_captions(n, caption_values=values)
    src.prefix[:, :FRAME] = np.array(values)[:, None]
    return src


def test_every_donor_has_another_caption():
    """The gap scores an item's caption under a donor whose caption differs: a donor of the
    same caption (another item of one label) explains it as well, and pulled the gap toward 0."""
    src = _class_frames(40, classes=8)  # 5 items a caption
    out = binding_gap(FakeLM(frame=True, audio=False), src)
    for v in ("both", "frame"):
        assert out["values"][f"binding_gap/{v}"] == pytest.approx(2.0)  # every item: 3 bits - 1 bit
        assert out["values"][f"binding_gap/{v}/item_mean"] == pytest.approx(2.0)
    for parts in SWAPS.values():
        items, donors = gap_pairs(src, parts, max_items=512)
        assert len(items) == 40 and (src.stream[items] != src.stream[donors]).any(axis=1).all()


def test_a_variant_whose_items_share_one_caption_has_no_donor():
    src = tiny_captions(30, caption_values=[7] * 30)
    out = binding_gap(FakeLM(frame=True, audio=False), src)
    assert set(out["status"].values()) == {"n/a"} and out["values"] == {}


@settings(max_examples=200, deadline=None)
@given(classes=st.lists(st.integers(0, 5), min_size=2, max_size=60), seed=st.integers(0, 3))
def test_different_caption_donors(classes, seed):
    """Every donor is of another class; a permutation (each item lends once) whenever no class
    holds more than half the items; fixed by the seed; with every class distinct, exactly the
    derangement the gap used before (so data with distinct captions keeps its donors)."""
    c = np.array(classes)
    if len(set(classes)) < 2:
        with pytest.raises(ValueError, match="2 distinct captions"):
            different_caption_donors(c, seed)
        return
    p = different_caption_donors(c, seed)
    assert (c[p] != c).all() and np.array_equal(p, different_caption_donors(c, seed))
    if np.bincount(c).max() * 2 <= len(c):
        assert np.array_equal(np.sort(p), np.arange(len(c)))
    distinct = np.arange(len(c))
    assert np.array_equal(different_caption_donors(distinct, seed), fixed_derangement(len(c), seed))


def test_donors_are_a_fixed_derangement():
    p = fixed_derangement(50, seed=3)
    assert (p != np.arange(50)).all() and np.array_equal(p, fixed_derangement(50, seed=3))
    with pytest.raises(ValueError, match="at least 2"):
        fixed_derangement(1)


def test_probes_with_a_binding_model():
    src = tiny_captions(30, labels=[i % 3 for i in range(30)])
    results = run_probes(FakeLM(frame=True, audio=False), {"captioned": src}, max_items=30, candidates=5, min_items=10)
    r = results["retrieval"]
    assert r["R@1"] == 1.0 and r["n"] == 30 and r["candidates"] == 5
    # its null: with the media blanked it explains no caption, every candidate ties, and a tie
    # counts against the true caption (ranked last)
    assert r["null_R@1"] == 0.0 and r["null_MRR"] == pytest.approx(1 / 5)
    assert results["blank_frame"]["mean"] == pytest.approx(2.0)
    assert results["blank_audio"]["mean"] == pytest.approx(0.0)
    assert results["same_class_wrong_instance"]["mean"] == pytest.approx(2.0)  # other instance, other frame
    assert results["same_length_caption"]["mean"] == pytest.approx(2.0)
    assert "| retrieval | 30 | R@1 1.000" in format_table(results)
    assert "media blanked: R@1 0.000, R@5 1.000, MRR 0.200" in format_table(results)


class CaptionPrior:
    """A media-blind scorer whose bits depend on the caption only, as a language model's prior:
    short captions cost 3 bits a byte and long ones 1 (like the cheap " and " of the binding
    corpus's two-digit captions), plus 0.1 per byte for each step of the caption's rank k."""

    device = torch.device("cpu")

    def score(self, batch):
        ids = batch["ids"]
        targets = ids[:, -batch["segment"].shape[1] :]
        length = (targets < NUM_BYTES).sum(1, keepdim=True)
        k = (targets[:, :1] % 10).float()
        bits = torch.where(length <= 2, 3.0, 1.0) + 0.1 * k
        return bits.expand_as(targets) * math.log(2), targets


def _two_lengths(short_captions: int = 4, long_captions: int = 4, short: int = 6, long: int = 2):
    """``short_captions`` distinct captions of 2 bytes (values 20, 21, ...), each the caption of
    ``short`` items, and ``long_captions`` of 4 bytes (30, 31, ...) of ``long`` items; every item
    has its own media. Most items have a short caption, as most of the binding corpus's items do."""
    values = [v for v in range(20, 20 + short_captions) for _ in range(short)]
    values += [v for v in range(30, 30 + long_captions) for _ in range(long)]
    src = tiny_captions(len(values), caption_values=values)
    for i, v in enumerate(values):
        length = 2 if v < 30 else 4
        src.stream[i] = PAD
        src.stream[i, :length], src.stream[i, length] = v, EOS
    return src


def test_a_media_blind_scorer_retrieves_at_its_null():
    """The candidates share the true caption's byte length, so a scorer that ignores the media
    cannot win or lose by length: here each length's 4 captions are the whole candidate set and
    each caption rank k = 0..3 is the truth of as many items, so it ranks the truth k + 1: R@1 = 1/4,
    MRR = (1 + 1/2 + 1/3 + 1/4) / 4 — and its null (media blanked) is the same figure. Ranked by
    bits per byte among negatives of any length (before), it scored R@1 0.125, MRR 0.409."""
    results = run_probes(CaptionPrior(), {"captioned": _two_lengths()}, max_items=32, candidates=4, min_items=10)
    r = results["retrieval"]
    assert r["n"] == 32
    assert r["R@1"] == pytest.approx(1 / 4) and r["MRR"] == pytest.approx(25 / 48)
    assert (r["null_R@1"], r["null_R@5"], r["null_MRR"]) == (r["R@1"], r["R@5"], r["MRR"])


def test_retrieval_ranks_the_items_whose_length_has_enough_captions():
    """3 captions of 4 bytes cannot fill 4 candidates: only the 24 items of a 2-byte caption are
    ranked (still at the blind scorer's null); 5 candidates fit no length: insufficient."""
    src = _two_lengths(long_captions=3)
    r = run_probes(CaptionPrior(), {"captioned": src}, max_items=64, candidates=4, min_items=10)["retrieval"]
    assert r["n"] == 24 and r["R@1"] == pytest.approx(1 / 4) and r["MRR"] == pytest.approx(25 / 48)
    r = run_probes(CaptionPrior(), {"captioned": src}, max_items=64, candidates=5, min_items=10)["retrieval"]
    assert r["status"] == "insufficient" and r["valid_items"] == 0


def test_probes_report_nothing_when_negatives_are_too_few():
    src = tiny_captions(12, labels=list(range(12)), caption_values=[10, 11] * 6)  # 2 distinct captions
    results = run_probes(FakeLM(frame=True, audio=False), {"captioned": src}, max_items=12, candidates=5, min_items=10)
    assert results["same_class_wrong_instance"] == {"status": "insufficient", "valid_items": 0, "needed": 10}
    assert results["retrieval"]["status"] == "insufficient" and "R@1" not in results["retrieval"]
    assert "insufficient" in format_table(results)


def test_shifted_window_probe_measures_use_of_the_adjacent_past():
    items = [np.arange(200, dtype=np.uint8), np.arange(50, 250, dtype=np.uint8)]
    src = SequenceSource(items, context=16, stream_len=4, segment="audio")

    class Continuation:  # 0 bits when the prefix's last byte + 1 is the first stream byte, else 8
        device = torch.device("cpu")

        def score(self, batch):
            ids = batch["ids"]
            S = batch["segment"].shape[1]
            ok = (ids[:, -S - 1] + 1) == ids[:, -S]
            return torch.where(ok, 0.0, 8.0)[:, None].expand(-1, S) * math.log(2), ids[:, -S:]

    results = run_probes(Continuation(), {"audio": src}, max_items=40, min_items=10)
    r = results["shifted_window/audio"]
    assert r["status"] == "ok" and r["mean"] == pytest.approx(8.0)
    assert NUM_BYTES == 256


def test_probe_fill_values_are_silence_and_black():
    from torchaudio.functional import mu_law_encoding

    from holozero.probes import BLACK, SILENCE

    assert SILENCE == int(mu_law_encoding(torch.tensor(0.0), 256)) and BLACK == 0
