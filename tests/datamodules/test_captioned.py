"""Captioned windows from a user metadata.jsonl: layout, UTF-8 cuts, splits, bad input."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import soundfile
import torch
import torchvision.io as tio
from hypothesis import given, settings
from hypothesis import strategies as st

from datamodules import CaptionedDataModule
from datamodules.audio import load_mulaw
from datamodules.captioned import cut_utf8
from datamodules.components import CaptionedComponent
from datamodules.demo_sources import video_clips
from datamodules.errors import BadItemError
from datamodules.frames import load_gray, video_frame_at
from holozero.specials import EOS, PAD, SEP


def _tone(path, seconds=0.3, rate=16000, freq=440.0):
    t = np.arange(int(seconds * rate)) / rate
    soundfile.write(path, 0.4 * np.sin(2 * np.pi * freq * t), rate)


def _image(path, value):
    tio.write_png(torch.full((1, 20, 20), value, dtype=torch.uint8), str(path))


@pytest.fixture
def dataset(tmp_path):
    """10 good items in 4 groups (an image+audio pair each; one video+time; one audio only)."""
    (tmp_path / "media").mkdir()
    lines = []
    for i in range(8):
        _image(tmp_path / "media" / f"{i}.png", 30 * i)
        _tone(tmp_path / "media" / f"{i}.wav", freq=200.0 + 100 * i)
        lines.append(
            {
                "image": f"media/{i}.png",
                "audio": f"media/{i}.wav",
                "caption": ["zero", "일", "two", "삼", "four", "오", "six", "칠"][i],
                "label": i,
                "group": f"g{i % 4}",
            }
        )
    lines.append({"video": str(video_clips()[0]), "time": 1.0, "caption": "a clip", "group": "g0"})
    lines.append({"audio": "media/1.wav", "caption": "only sound", "group": "g1"})
    return tmp_path, lines


def _write(tmp_path, lines, extra: list[str] = ()):
    """UTF-8 JSON lines; a str item is written as given (surrogates pass through as bytes)."""
    text = [x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines] + list(extra)
    meta = tmp_path / "metadata.jsonl"
    meta.write_bytes(("\n".join(text) + "\n").encode("utf-8", "surrogatepass"))
    return meta


def _module(meta, **kw):
    layout = dict(frame_size=16, audio_bytes=1022, caption_bytes=16, val_fraction=0.25, test_fraction=0.25)
    layout.update({k: kw.pop(k) for k in list(kw) if k in CaptionedComponent.__dataclass_fields__})
    args = dict(K=8, batch_size=4, cache_dir=None, val_bytes=64) | kw
    dm = CaptionedDataModule(captioned=CaptionedComponent(metadata=str(meta), **layout), **args)
    dm.setup()
    return dm


def test_window_layout_matches_the_loaders(dataset):
    tmp_path, lines = dataset
    dm = _module(_write(tmp_path, lines))
    comp = dm.captioned
    items = [w for part in comp.items.values() for w in part.sources]
    assert len(items) == 10
    both = {}
    for part in comp.items.values():
        for k, where in enumerate(part.sources):
            both[int(where.rsplit(":", 1)[1]) - 1] = (part.prefix[k], part.stream[k])
    prefix, stream = both[1]  # image 1 + audio 1, caption "일"
    assert np.array_equal(prefix[:256], load_gray(tmp_path / "media/1.png").numpy())
    assert prefix[256] == SEP and prefix[-1] == SEP and len(prefix) == 256 + 1 + 1022 + 1
    audio = load_mulaw(tmp_path / "media/1.wav").numpy()  # a tone from its first sample: nothing to skip
    assert np.array_equal(prefix[257 : 257 + 1022], audio[:1022])
    assert list(stream[:4]) == list("일".encode()) + [EOS] and (stream[4:] == PAD).all()
    prefix, _ = both[8]  # the video item: a frame, no audio -> PAD, never a byte value
    assert np.array_equal(prefix[:256], video_frame_at(video_clips()[0], 1.0).numpy())
    assert (prefix[257:-1] == PAD).all()
    prefix, _ = both[9]  # audio only: the frame part is PAD
    assert (prefix[:256] == PAD).all()


def test_split_keeps_groups_together_and_is_fixed_by_seed(dataset):
    tmp_path, lines = dataset
    meta = _write(tmp_path, lines)
    dm = _module(meta)
    group_of = {f"{meta}:{n + 1}": line["group"] for n, line in enumerate(lines)}
    groups = {s: {group_of[w] for w in dm.captioned.items[s].sources} for s in ("train", "val", "test")}
    assert all(groups.values())
    assert not groups["train"] & groups["val"] and not groups["train"] & groups["test"]
    assert not groups["val"] & groups["test"]
    assert _module(meta).captioned.items["test"].sources == dm.captioned.items["test"].sources


def test_no_recording_image_or_clip_is_in_two_splits(dataset):
    """Items of different groups that share a recording (or an image, or a clip) are one unit:
    the split follows every source an item uses, not only its group."""
    tmp_path, lines = dataset
    shared = [dict(lines[2], group="solo-a", caption="again"), dict(lines[3], image="media/0.png", group="solo-b")]
    meta = _write(tmp_path, lines + shared)
    dm = _module(meta)
    where = {}
    for split, items in dm.captioned.items.items():
        for files in items.files:
            for f in files:
                where.setdefault(f, set()).add(split)
    assert where and all(len(splits) == 1 for splits in where.values()), where


def test_components_of_one_module_share_the_split_of_a_recording(dataset, tmp_path):
    """A recording that is a captioned item's audio in one split is never an audio-continuation
    recording of another split."""
    from datamodules import MixtureDataModule
    from datamodules.components import AudioComponent

    root, lines = dataset
    meta = _write(root, lines)
    for i in range(8, 11):  # recordings only the audio component reads
        _tone(root / "media" / f"{i}.wav", seconds=0.5, freq=200.0 + 50 * i)
    dm = MixtureDataModule(
        captioned=CaptionedComponent(metadata=str(meta), caption_bytes=16, val_fraction=0.25, test_fraction=0.25),
        audio=AudioComponent(paths=[str(root / "media" / "*.wav")], context_bytes=512, stream_bytes=256),
        modalities=["captioned", "audio"],
        K=8,
        val_bytes=64,
    )
    dm.setup()
    captioned = {f: s for s, items in dm.parts["captioned"].items.items() for files in items.files for f in files}
    audio = {f: s for s, recordings in dm.parts["audio"].files.items() for f in recordings}
    # every one of the 8 recordings both components read is compared (a path spelled two ways,
    # or a recording one of them dropped, would leave fewer: the check would compare nothing)
    shared = {str((root / "media" / f"{i}.wav").resolve()) for i in range(8)}
    assert set(audio) & set(captioned) == shared and len(audio) == 11
    for f in shared:
        assert captioned[f] == audio[f], (f, captioned[f], audio[f])


def test_voiced_audio_start_skips_leading_silence(tmp_path):
    """A recording that starts with 0.5 s of silence gets its voiced part into the window."""
    rate = 8000
    t = np.arange(int(0.3 * rate)) / rate
    tone = 0.5 * np.sin(2 * np.pi * 300.0 * t)
    lines = []
    for i in range(3):  # three items, each with its own recording and image (three split units)
        soundfile.write(tmp_path / f"late{i}.wav", np.concatenate([np.zeros(rate // 2), tone]), rate)
        _image(tmp_path / f"{i}.png", 100 + i)
        lines.append({"image": f"{i}.png", "audio": f"late{i}.wav", "caption": "late"})
    meta = _write(tmp_path, lines)
    codes = load_mulaw(tmp_path / "late0.wav").numpy()
    for start, offset in (("voiced", 4000), ("0.25", 2000), ("0", 0)):
        dm = _module(meta, audio_bytes=510, audio_start=start, val_fraction=0.34, test_fraction=0.33)
        prefix = dm.captioned.items["train"].prefix[0]
        assert np.array_equal(prefix[257 : 257 + 510], codes[offset : offset + 510]), start
        items = dm.captioned.items["train"]
        assert items.total("audio_skipped") == offset * len(items.prefix)
        assert items.total("audio_cut") == (len(codes) - offset - 510) * len(items.prefix)
    summary = _module(meta, audio_bytes=510, val_fraction=0.34, test_fraction=0.33).summary["captioned"]["train"]
    assert summary["audio s skipped (start)"] == 0.5 and summary["audio s kept"] == round(510 / rate, 3)


def test_shuffled_captions_never_pair_an_item_with_its_own_caption(dataset):
    """The control draws another *caption*, not only another item: with two captions for 8 of
    the 10 items, a draw by item (before) kept the window's own caption in 229 of 400 windows."""
    tmp_path, lines = dataset
    lines = [dict(line, caption=["zero", "one"][i % 2]) if i < 8 else line for i, line in enumerate(lines)]
    dm = _module(_write(tmp_path, lines), shuffle_captions=True)
    source = dm.train_sources["captioned"]
    own = {}  # a prefix -> the captions of the items that have it
    for p, s in zip(source.prefix, source.stream, strict=True):
        own.setdefault(p.tobytes(), set()).add(s.tobytes())
    assert len({s.tobytes() for s in source.stream}) >= 2 and len(source) >= 4
    ids = source.sample(np.random.default_rng(0), 400)["ids"].numpy().astype(source.prefix.dtype)
    C = source.prefix.shape[1]
    kept = [row[C:].tobytes() in own[row[:C].tobytes()] for row in ids]
    assert len(kept) == 400 and not any(kept), f"{sum(kept)} of 400 windows kept their own caption"
    val = dm.val_sources["captioned"].fixed(0, 1)["ids"][0].numpy()  # validation stays matched
    vs = dm.val_sources["captioned"]
    assert np.array_equal(val, np.concatenate([vs.prefix[0], vs.stream[0]]))


def test_the_control_draws_uniformly_among_the_other_captions():
    """Item i of caption c gets each item of another caption with probability 1 / (n - |c|)."""
    from holozero.donors import OtherCaptionDraw

    classes = np.array([0, 0, 0, 1, 1, 2, 3, 3, 3, 3])
    draw, rng = OtherCaptionDraw(classes), np.random.default_rng(0)
    for i in (0, 3, 5, 6):
        got = draw(rng, np.full(40_000, i))
        others = np.flatnonzero(classes != classes[i])
        assert set(got) == set(others)
        share = np.bincount(got, minlength=len(classes))[others] / len(got)
        assert np.abs(share - 1 / len(others)).max() < 5 * np.sqrt(1 / len(others) / len(got))


def test_shuffled_captions_need_two_distinct_captions(dataset):
    tmp_path, lines = dataset
    same = [dict(line, caption="same") for line in lines]
    with pytest.raises(ValueError, match="2 distinct captions"):
        _module(_write(tmp_path, same), shuffle_captions=True)


@settings(max_examples=300, deadline=None)
@given(text=st.text(min_size=0, max_size=40), limit=st.integers(0, 50))
def test_caption_cuts_only_at_utf8_boundaries(text, limit):
    data = text.encode("utf-8")
    kept = cut_utf8(data, limit)
    assert len(kept) <= limit and data.startswith(kept)
    kept.decode("utf-8")  # a whole number of characters
    if len(kept) < len(data):  # maximal: the next character would not fit
        nxt = data[len(kept) :].decode("utf-8")[0].encode("utf-8")
        assert len(kept) + len(nxt) > limit


BAD_CASES = {
    "missing file": lambda d: {"image": "media/nope.png", "caption": "x"},
    "empty file": lambda d: (d / "media/empty.wav").write_bytes(b"") and {"audio": "media/empty.wav", "caption": "x"},
    "truncated audio": lambda d: (
        (d / "media/cut.wav").write_bytes((d / "media/0.wav").read_bytes()[:30])
        and {"audio": "media/cut.wav", "caption": "x"}
    ),
    "undecodable image": lambda d: (
        (d / "media/junk.png").write_bytes(b"not a png at all" * 10) and {"image": "media/junk.png", "caption": "x"}
    ),
    "caption not UTF-8": lambda d: json.dumps({"image": "media/0.png", "caption": "\ud800"}),  # escaped in JSON
    "line not UTF-8": lambda d: '{"image": "media/0.png", "caption": "\ud800"}',  # raw invalid bytes
    "no caption": lambda d: {"image": "media/0.png"},
    "video without time": lambda d: {"video": str(video_clips()[0]), "caption": "x"},
    "video time past the end": lambda d: {"video": str(video_clips()[0]), "time": 999.0, "caption": "x"},
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_items_error_by_default_and_are_counted_under_skip(dataset, case):
    tmp_path, lines = dataset
    bad = BAD_CASES[case](tmp_path)
    meta = _write(tmp_path, lines + [bad])
    with pytest.raises(BadItemError) as info:
        _module(meta)
    assert str(meta) in str(info.value)  # the metadata line, and the file where one is involved
    dm = _module(meta, on_bad_item="skip")
    assert dm.skipped_items == 1
    assert sum(len(part.sources) for part in dm.captioned.items.values()) == 10


def test_bad_json_line_is_named(dataset):
    tmp_path, lines = dataset
    meta = _write(tmp_path, lines, extra=["{not json"])
    with pytest.raises(BadItemError, match=f"{meta}:{len(lines) + 1}: not valid JSON"):
        _module(meta)
    assert _module(meta, on_bad_item="skip").skipped_items == 1


def test_missing_metadata_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.jsonl"):
        _module(tmp_path / "nothing.jsonl")


def test_decoded_items_are_cached_and_a_changed_file_is_decoded_again(dataset, tmp_path, monkeypatch):
    """fit, test and evaluate of a run decode every image and recording once: later reads come
    from the cache, skipped items are reported again, and a changed media file invalidates it."""
    import datamodules.captioned as captioned

    root, lines = dataset
    meta = _write(root, lines + [{"image": "media/nope.png", "caption": "x"}])
    first = _module(meta, cache_dir=str(tmp_path / "c"), on_bad_item="skip")
    calls = []
    real = captioned.load_items
    monkeypatch.setattr(captioned, "load_items", lambda *a, **k: calls.append(1) or real(*a, **k))
    again = _module(meta, cache_dir=str(tmp_path / "c"), on_bad_item="skip")
    assert calls == [] and again.skipped_items == first.skipped_items == 1
    for split in ("train", "val", "test"):
        a, b = first.captioned.items[split], again.captioned.items[split]
        assert np.array_equal(a.prefix, b.prefix) and np.array_equal(a.stream, b.stream) and a.files == b.files
    _image(root / "media" / "3.png", 77)  # a changed image: decoded again
    os.utime(root / "media" / "3.png", ns=(10**18, 10**18))
    _module(meta, cache_dir=str(tmp_path / "c"), on_bad_item="skip")
    assert calls == [1]
