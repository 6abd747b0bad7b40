"""Captioned windows from a user metadata.jsonl: layout, UTF-8 cuts, splits, bad input."""

from __future__ import annotations

import json

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
    """6 good items in 3 groups (an image+audio pair each; one video+time; one audio only)."""
    (tmp_path / "media").mkdir()
    lines = []
    for i in range(5):
        _image(tmp_path / "media" / f"{i}.png", 40 * i)
        _tone(tmp_path / "media" / f"{i}.wav", freq=200.0 + 100 * i)
        lines.append(
            {
                "image": f"media/{i}.png",
                "audio": f"media/{i}.wav",
                "caption": ["zero", "일", "two", "삼", "four"][i],
                "label": i,
                "group": f"g{i % 3}",
            }
        )
    lines.append({"video": str(video_clips()[0]), "time": 1.0, "caption": "a clip", "group": "g0"})
    lines.append({"audio": "media/0.wav", "caption": "only sound", "group": "g1"})
    return tmp_path, lines


def _write(tmp_path, lines, extra: list[str] = ()):
    """UTF-8 JSON lines; a str item is written as given (surrogates pass through as bytes)."""
    text = [x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines] + list(extra)
    meta = tmp_path / "metadata.jsonl"
    meta.write_bytes(("\n".join(text) + "\n").encode("utf-8", "surrogatepass"))
    return meta


def _module(meta, **kw):
    layout = dict(frame_size=16, audio_bytes=1022, caption_bytes=16, val_fraction=0.34)
    layout.update({k: kw.pop(k) for k in list(kw) if k in CaptionedComponent.__dataclass_fields__})
    args = dict(K=8, batch_size=4, cache_dir=None, val_bytes=64) | kw
    dm = CaptionedDataModule(captioned=CaptionedComponent(metadata=str(meta), **layout), **args)
    dm.setup()
    return dm


def test_window_layout_matches_the_loaders(dataset):
    tmp_path, lines = dataset
    dm = _module(_write(tmp_path, lines))
    comp = dm.captioned
    items = comp.train_items.sources + comp.val_items.sources
    assert len(items) == 7
    both = {}
    for part in (comp.train_items, comp.val_items):
        for k, where in enumerate(part.sources):
            both[int(where.rsplit(":", 1)[1]) - 1] = (part.prefix[k], part.stream[k])
    prefix, stream = both[1]  # image 1 + audio 1, caption "일"
    assert np.array_equal(prefix[:256], load_gray(tmp_path / "media/1.png").numpy())
    assert prefix[256] == SEP and prefix[-1] == SEP and len(prefix) == 256 + 1 + 1022 + 1
    audio = load_mulaw(tmp_path / "media/1.wav").numpy()
    assert np.array_equal(prefix[257 : 257 + 1022], audio[:1022])
    assert list(stream[:4]) == list("일".encode()) + [EOS] and (stream[4:] == PAD).all()
    prefix, _ = both[5]  # the video item: a frame, no audio -> PAD, never a byte value
    assert np.array_equal(prefix[:256], video_frame_at(video_clips()[0], 1.0).numpy())
    assert (prefix[257:-1] == PAD).all()
    prefix, _ = both[6]  # audio only: the frame part is PAD
    assert (prefix[:256] == PAD).all()


def test_split_keeps_groups_together_and_is_fixed_by_seed(dataset):
    tmp_path, lines = dataset
    meta = _write(tmp_path, lines)
    dm = _module(meta)
    group_of = {f"{meta}:{n + 1}": line["group"] for n, line in enumerate(lines)}
    train = {group_of[w] for w in dm.captioned.train_items.sources}
    val = {group_of[w] for w in dm.captioned.val_items.sources}
    assert train and val and not train & val
    assert _module(meta).captioned.val_items.sources == dm.captioned.val_items.sources


def test_shuffled_captions_never_pair_an_item_with_its_own(dataset):
    tmp_path, lines = dataset
    dm = _module(_write(tmp_path, lines), shuffle_captions=True)
    source = dm.train_sources["captioned"]
    batch = source.sample(np.random.default_rng(0), 200)
    ids = batch["ids"].numpy()
    own = {(tuple(p), tuple(s)) for p, s in zip(source.prefix, source.stream, strict=True)}
    C = source.prefix.shape[1]
    assert not any((tuple(row[:C]), tuple(row[C:])) in own for row in ids)
    val = dm.val_sources["captioned"].fixed(0, 1)["ids"][0].numpy()  # validation stays matched
    vs = dm.val_sources["captioned"]
    assert np.array_equal(val, np.concatenate([vs.prefix[0], vs.stream[0]]))


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
    assert len(dm.captioned.train_items.sources) + len(dm.captioned.val_items.sources) == 7


def test_bad_json_line_is_named(dataset):
    tmp_path, lines = dataset
    meta = _write(tmp_path, lines, extra=["{not json"])
    with pytest.raises(BadItemError, match=f"{meta}:{len(lines) + 1}: not valid JSON"):
        _module(meta)
    assert _module(meta, on_bad_item="skip").skipped_items == 1


def test_missing_metadata_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.jsonl"):
        _module(tmp_path / "nothing.jsonl")
