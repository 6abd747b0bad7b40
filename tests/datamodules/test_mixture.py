"""Continuation windows, controls and the mixture of modalities."""

from __future__ import annotations

import zlib
from collections import Counter

import numpy as np
import pytest
import soundfile

from datamodules import MixtureDataModule, TextDataModule
from datamodules.components import AudioComponent, CaptionedComponent, FramesComponent, TextComponent
from datamodules.controls import markov2_chain, synthetic_corpus
from datamodules.demo_sources import video_clips
from datamodules.errors import BadItemError
from datamodules.sources import SequenceSource
from datamodules.splits import SourceSplits
from holozero.segments import SEGMENTS
from holozero.specials import EOS


def test_sequence_windows_stay_inside_one_item_at_aligned_starts():
    items = [np.arange(40, dtype=np.uint8), np.arange(100, 164, dtype=np.uint8)]
    src = SequenceSource(items, context=16, stream_len=8, segment="frame", align=8)
    assert src.total == (40 - 24) // 8 + 1 + (64 - 24) // 8 + 1  # 3 + 6 windows
    batch = src.sample(np.random.default_rng(0), 500)
    ids = batch["ids"].numpy()
    assert ids.shape == (500, 24) and (batch["segment"] == SEGMENTS.index("frame")).all()
    assert (np.diff(ids, axis=1) == 1).all()  # consecutive bytes of one item, never a join
    assert set((ids[:, 0] % 100) % 8) == {0}  # aligned starts
    seen = {tuple(row) for row in ids}
    assert len(seen) == src.total  # every valid window is reachable
    with pytest.raises(ValueError, match="shorter than a window"):
        SequenceSource([np.zeros(10, dtype=np.uint8)], 16, 8, "audio")


def test_audio_item_shorter_than_a_window_is_bad(tmp_path):
    rate = 8000
    for name, seconds in (("long.wav", 0.5), ("long2.wav", 0.5), ("short.wav", 0.05)):
        soundfile.write(tmp_path / name, np.sin(np.arange(int(seconds * rate)) / 5) * 0.3, rate)
    comp = AudioComponent(paths=[str(tmp_path)], context_bytes=512, stream_bytes=256, audio_start="0")
    from datamodules.base import BadItems

    with pytest.raises(BadItemError, match=r"short\.wav: recording has 400 bytes, fewer than one window of 768"):
        comp.build(None, BadItems("error"), SourceSplits())
    skip = BadItems("skip")
    with pytest.raises(ValueError, match="needs ≥ 3 usable recordings, got 2 of 3 files"):
        comp.build(None, skip, SourceSplits())  # two usable recordings cannot make three splits
    assert len(skip.skipped) == 1


def test_frames_component_cuts_whole_frames():
    comp = FramesComponent(paths=[str(p) for p in video_clips()], fps=4.0, frame_size=8, context_frames=2)
    from datamodules.base import BadItems

    train = comp.build(None, BadItems("error"), SourceSplits())["train"]
    batch = train.sample(np.random.default_rng(1), 4)
    assert batch["ids"].shape == (4, 3 * 64) and batch["segment"].shape == (4, 64)
    assert sorted(map(len, comp.files.values())) == [1, 1, 2]  # 4 clips, 3 near-duplicate groups: 1 / 1 / 1


def test_zlib_control_stores_the_compressed_documents(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(4):
        (docs / f"{i}.txt").write_text(f"document {i} " * 50)
    comp = TextComponent(
        paths=[str(docs)], context_bytes=8, stream_bytes=8, val_fraction=0.25, test_fraction=0.25, control="zlib"
    )
    comp.prepare(tmp_path / "cache")
    comp.build(tmp_path / "cache", None, SourceSplits())
    stream = np.asarray(comp.store.stream("val"))
    (name,) = comp.store.meta["val"]["files"]
    expected = np.frombuffer(zlib.compress(open(name, "rb").read(), 9), dtype=np.uint8)
    assert np.array_equal(stream[:-1], expected) and stream[-1] == EOS


def test_synthetic_controls_know_their_floor(tmp_path):
    folder, floor = synthetic_corpus("uniform", documents=2, doc_bytes=1000, cache_root=tmp_path)
    assert floor == 8.0 and len(list(folder.glob("*.bin"))) == 2
    chain = markov2_chain(seed=0)
    folder, floor = synthetic_corpus("markov", documents=2, doc_bytes=50_000, cache_root=tmp_path)
    assert floor == chain.entropy_rate
    # the empirical code length of a long sample under the true chain approaches the entropy rate
    data = np.frombuffer((folder / "0000.bin").read_bytes(), dtype=np.uint8)
    index = {v: i for i, v in enumerate(chain.values)}
    s = np.array([index[v] for v in data])
    bits = -np.log2(chain.P[s[:-2], s[1:-1], s[2:]]).mean()
    assert abs(bits - floor) < 0.03
    with pytest.raises(ValueError, match="control must be one of"):
        TextComponent(control="gzip")


def _mixture(tmp_path, **kw):
    sample = markov2_chain(alphabet=8, seed=1)
    docs = tmp_path / "text"
    docs.mkdir(exist_ok=True)
    for i in range(4):
        (docs / f"{i}.bin").write_bytes(sample.sample(3000, np.random.default_rng(i)).tobytes())
    rate = 8000
    audio = tmp_path / "audio"
    audio.mkdir(exist_ok=True)
    for i in range(3):
        soundfile.write(audio / f"{i}.wav", np.sin(np.arange(rate) / (3 + i)) * 0.3, rate)
    dm = MixtureDataModule(
        text=TextComponent(paths=[str(docs)], context_bytes=16, stream_bytes=8, val_fraction=0.25, test_fraction=0.25),
        audio=AudioComponent(
            paths=[str(audio)], context_bytes=64, stream_bytes=32, val_fraction=0.34, test_fraction=0.33
        ),
        frames=FramesComponent(paths=[str(p) for p in video_clips()], fps=4.0, frame_size=8, context_frames=2),
        modalities=["text", "audio", "frames"],
        batch_size=2,
        cache_dir=str(tmp_path / "cache"),
        **kw,
    )
    dm.prepare_data()
    dm.setup()
    return dm


def test_mixture_proportions_and_one_validation_set_per_modality(tmp_path):
    dm = _mixture(tmp_path, proportions={"text": 0.6, "audio": 0.3, "frames": 0.1})
    loader = dm.train_dataloader()
    seg_of = {0: "text", 2: "audio", 3: "frame"}
    counts = Counter(seg_of[int(b["segment"][0, 0])] for _, b in zip(range(2000), loader, strict=False))
    assert abs(counts["text"] / 2000 - 0.6) < 0.04 and abs(counts["audio"] / 2000 - 0.3) < 0.04
    assert abs(counts["frame"] / 2000 - 0.1) < 0.03
    vals = dm.val_dataloader()
    assert [int(next(iter(v))["segment"][0, 0]) for v in vals] == [0, 2, 3]
    assert sum(share for *_, share in dm.batch_shapes) == pytest.approx(1.0)


def test_mixture_rejects_unknown_names(tmp_path):
    with pytest.raises(ValueError, match="modalities must be"):
        MixtureDataModule(modalities=["smell"])
    with pytest.raises(ValueError, match="not in the mixture"):
        MixtureDataModule(modalities=["text"], proportions={"audio": 1.0})


def test_every_module_refuses_a_prefix_that_is_not_whole_slots():
    """K=7 used to train on the quickstart with a PAD slot in every captioned window: one check in
    the shared base names the component, its length, K and the nearest valid lengths."""
    from datamodules import CaptionedDataModule
    from datamodules.components import CaptionedComponent

    with pytest.raises(ValueError, match=r"text: prefix of 100 bytes is not a multiple of K=8.* 96 or 104"):
        TextDataModule(K=8, text=TextComponent(context_bytes=100))
    with pytest.raises(ValueError, match=r"captioned: prefix of 768 bytes is not a multiple of K=7.* 763 or 770"):
        CaptionedDataModule(K=7, captioned=CaptionedComponent(audio_bytes=510))
    with pytest.raises(ValueError, match=r"audio: prefix of 768 bytes is not a multiple of K=7"):
        MixtureDataModule(K=7, modalities=["audio"])
    with pytest.raises(ValueError, match=r"frames: prefix of 768 bytes is not a multiple of K=5"):
        MixtureDataModule(K=5, modalities=["frames"], frames=FramesComponent(context_frames=3))


def test_round_prefix_keeps_the_context_to_the_nearest_multiple_of_K():
    dm = MixtureDataModule(
        K=7,
        round_prefix=True,
        text=TextComponent(context_bytes=128),
        captioned=CaptionedComponent(audio_bytes=510),
        frames=FramesComponent(context_frames=3),
        modalities=["text", "captioned", "frames"],
    )
    assert dm.parts["text"].context_bytes == 126  # 128 -> 126 (nearer than 133)
    assert dm.parts["captioned"].prefix_len == 770 and dm.parts["captioned"].audio_bytes == 512
    assert dm.parts["frames"].prefix_len == 770 and dm.parts["frames"].context_frames == 3
    assert len(dm.prefix_changes) == 3 and all("K=7" in c for c in dm.prefix_changes)
