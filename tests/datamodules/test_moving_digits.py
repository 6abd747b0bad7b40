"""The moving-digit clips: straight bouncing paths, the maximum of the digits, lossless files."""

from __future__ import annotations

import av
import numpy as np
import pytest

from datamodules.moving_digits import CANVAS, DIGITS, FRAMES, MAX_SPEED, plan, render, trajectories, write_clip


def fold(x: np.ndarray, span: int) -> np.ndarray:
    """A straight line reflected between 0 and span: a triangle wave of period 2·span."""
    m = np.mod(x, 2 * span)
    return np.where(m <= span, m, 2 * span - m)


def test_trajectories_are_straight_lines_reflected_at_the_edges():
    span = CANVAS - 28
    paths = trajectories(np.random.default_rng(5), digits=40, frames=60)
    assert paths.shape == (60, 40, 2) and paths.min() >= 0 and paths.max() <= span
    t = np.arange(60)
    for digit in range(40):
        for axis in range(2):
            p = paths[:, digit, axis]
            fits = [v for v in range(-MAX_SPEED, MAX_SPEED + 1) if v and np.array_equal(p, fold(p[0] + v * t, span))]
            # one speed of 1..MAX_SPEED explains every frame (from an edge, +v and -v both do)
            assert len({abs(v) for v in fits}) == 1, (digit, axis, p)
    bounced = (np.diff(np.sign(np.diff(paths, axis=0)), axis=0) != 0).any(axis=0)
    assert bounced.mean() > 0.9  # over 60 frames nearly every digit meets an edge


def test_render_is_the_maximum_of_the_digits_at_their_corners():
    a = np.zeros((28, 28), np.uint8)
    a[0, 0], a[27, 27] = 100, 7
    b = np.full((28, 28), 50, np.uint8)
    positions = np.array([[[0, 0], [0, 1]], [[20, 20], [0, 0]]])  # frame 0: overlapping; frame 1: apart
    got = render(np.stack([a, b]), positions, canvas=48)
    expected = np.zeros((2, 48, 48), np.uint8)
    for f, corners in enumerate(positions):
        for image, (row, col) in zip((a, b), corners, strict=True):
            for i in range(28):
                for j in range(28):
                    expected[f, row + i, col + j] = max(expected[f, row + i, col + j], image[i, j])
    np.testing.assert_array_equal(got, expected)
    assert got[0, 0, 0] == 100 and got[0, 27, 27] == 50 and got[1, 47, 47] == 7


def test_write_clip_is_lossless_and_byte_identical(tmp_path):
    frames = np.random.default_rng(0).integers(0, 256, (FRAMES, CANVAS, CANVAS), dtype=np.uint8)
    write_clip(tmp_path / "a.mov", frames)
    write_clip(tmp_path / "b.mov", frames)
    assert (tmp_path / "a.mov").read_bytes() == (tmp_path / "b.mov").read_bytes()
    with av.open(str(tmp_path / "a.mov")) as container:
        decoded = [(f.time, f.to_ndarray(format="gray")) for f in container.decode(video=0)]
    assert [t for t, _ in decoded] == pytest.approx([k / 8 for k in range(FRAMES)])
    np.testing.assert_array_equal(np.stack([x for _, x in decoded]), frames)


def test_plan_uses_each_pool_image_at_most_once():
    pool = list(range(1000, 1400, 2))
    clips = plan(pool, clips=40)
    used = [i for chosen, _ in clips for i in chosen]
    assert len(used) == len(set(used)) == 40 * DIGITS and set(used) <= set(pool)
    assert all(paths.shape == (FRAMES, DIGITS, 2) for _, paths in clips)
    again = plan(pool, clips=40)
    assert all(a == c and np.array_equal(b, d) for (a, b), (c, d) in zip(clips, again, strict=True))
    with pytest.raises(ValueError, match="need 150 digit images, the pool has 100"):
        plan(list(range(100)), clips=50)
