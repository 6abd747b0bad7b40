"""The embedded corpus: each modality of the binding items carries its own, known part of the
caption; the moving-digit clips show exactly the digit images their manifest names, where it
says, and no image the binding items use."""

from __future__ import annotations

import json
from collections import Counter

import av
import numpy as np
import pytest
from PIL import Image

from datamodules.demo_corpus import ITEMS, binding_items, demo_corpus, spoken_digit_items
from datamodules.demo_sources import DIGIT_WORDS, mnist_digits, video_clips
from datamodules.moving_digits import CANVAS, CLIPS, DIGITS, FRAMES


def _sources():
    images = [(f"images/{i:05d}.png", i % 10) for i in range(ITEMS["image"] + ITEMS["both"])]
    recordings = {
        (lang, d): [f"speech/{lang}_{d}_v{v}.wav" for v in range(4)] for lang in ("en", "ko") for d in range(10)
    }
    return images, recordings


def test_each_kind_of_item_needs_its_own_modality():
    images, recordings = _sources()
    digit_of = dict(images)
    items = binding_items(images, recordings)
    kinds = Counter(item["kind"] for item in items)
    assert kinds == ITEMS and ITEMS["image"] / sum(ITEMS.values()) == 0.5  # set shares
    used = [item["image"] for item in items if "image" in item]
    assert len(used) == len(set(used)) == ITEMS["image"] + ITEMS["both"]  # every digit image once
    for item in items:
        if item["kind"] == "image":  # only the image tells the caption: no audio
            _, d, lang = item["label"].split()
            assert int(d) == digit_of[item["image"]] and "audio" not in item
            assert item["caption"] == f"{d} {DIGIT_WORDS[lang][int(d)]}"
        elif item["kind"] == "audio":  # only the speech: its digit, and its language orders the caption
            lang, d = item["audio"].split("/")[1].split("_")[:2]
            assert "image" not in item and item["caption"] == f"{DIGIT_WORDS[lang][int(d)]} {d}"
        else:  # the image names the first digit, the speech the second digit and the language
            lang, d = item["audio"].split("/")[1].split("_")[:2]
            words = DIGIT_WORDS[lang]
            joiner = {"en": "and", "ko": "그리고"}[lang]
            assert item["caption"] == f"{words[digit_of[item['image']]]} {joiner} {words[int(d)]}"
    # the label is exactly what fixes the caption: one label, one caption
    captions = {}
    for item in items:
        captions.setdefault(item["label"], set()).add(item["caption"])
    assert all(len(c) == 1 for c in captions.values())
    assert binding_items(images, recordings) == items  # deterministic


def test_the_spoken_digit_preset_is_kept():
    images, recordings = _sources()
    items = spoken_digit_items(images, recordings)
    assert len(items) == len(images)
    for item in items:
        lang, d = item["audio"].split("/")[1].split("_")[:2]
        assert item["caption"] == DIGIT_WORDS[lang][int(d)] and item["label"] == f"{d} {lang}"


@pytest.mark.slow
def test_moving_digit_clips_show_their_manifest_digits_and_no_binding_image():
    corpus = demo_corpus()  # built on first use into $HOLOZERO_CACHE
    rows = [json.loads(line) for line in corpus.moving_digits.read_text().splitlines()]
    assert len(rows) == CLIPS
    names = sorted(p.name for p in corpus.video.iterdir())
    assert names == sorted([p.name for p in video_clips()] + [row["video"].split("/")[1] for row in rows])
    images = [name for row in rows for name in row["images"]]
    assert len(images) == len(set(images)) == CLIPS * DIGITS  # no digit image in two clips
    binding = [json.loads(line) for line in corpus.metadata.read_text().splitlines()]
    assert not set(images) & {item.get("image") for item in binding}
    labels = mnist_digits()[1]
    for row in rows:
        assert row["labels"] == [int(labels[int(name[-9:-4])]) for name in row["images"]]  # images/mnist_NNNNN.png
        digits = [np.asarray(Image.open(corpus.root / name)) for name in row["images"]]
        expected = np.zeros((FRAMES, CANVAS, CANVAS), np.uint8)
        for frame, corners in zip(expected, row["positions"], strict=True):
            for digit, (r, c) in zip(digits, corners, strict=True):
                frame[r : r + 28, c : c + 28] = np.maximum(frame[r : r + 28, c : c + 28], digit)
        with av.open(str(corpus.root / row["video"])) as container:
            decoded = np.stack([f.to_ndarray(format="gray") for f in container.decode(video=0)])
        np.testing.assert_array_equal(decoded, expected)
