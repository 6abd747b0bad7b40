"""Near-duplicate sources share a split: the distance, the grouping, and the frames component
on videos written here (a clip and its lossy re-encode)."""

from __future__ import annotations

import av
import numpy as np
import pytest

from datamodules.base import BadItems
from datamodules.components import FramesComponent
from datamodules.frames import thumbnails
from datamodules.splits import SourceSplits, near_duplicate_groups, sequence_distances


def test_sequence_distances_is_the_mean_abs_difference_over_common_rows():
    rng = np.random.default_rng(0)
    seqs = [rng.integers(0, 256, (n, 6)).astype(np.uint8) for n in (5, 3, 7, 1)]
    got = sequence_distances(seqs)
    for i, a in enumerate(seqs):
        for j, b in enumerate(seqs):
            total, count = 0, 0
            for t in range(min(len(a), len(b))):
                for k in range(6):
                    total += abs(int(a[t, k]) - int(b[t, k]))
                    count += 1
            assert got[i, j] == pytest.approx(total / count)


def test_near_duplicate_groups_are_transitive_and_named_by_first_member():
    base = np.zeros((4, 8))
    seqs = [base + 100, base, base + 3, base + 6, base + 200]  # 0..3..6: a chain of steps of 3
    assert near_duplicate_groups(seqs, threshold=4.0) == [0, 1, 1, 1, 4]
    assert near_duplicate_groups(seqs, threshold=3.0) == [0, 1, 2, 3, 4]  # strictly closer than


def test_thumbnails_keep_small_rasters_and_shrink_large_ones():
    small = np.arange(64, dtype=np.uint8).reshape(1, 64)
    assert np.array_equal(thumbnails(small, 8), small.astype(np.float64))
    halves = np.zeros((2, 16, 16), np.uint8)
    halves[:, :, 8:] = 200  # left half 0, right half 200
    got = thumbnails(halves.reshape(2, 256), 8).reshape(2, 8, 8)
    # away from the edge each half keeps its level; the antialiasing filter blends the two
    # columns beside the edge, symmetrically, so the mean stays 100
    assert (got[:, :, :3] == 0).all() and (got[:, :, 5:] == 200).all()
    assert (got[:, :, 3] + got[:, :, 4] == 200).all() and 0 < got[0, 0, 3] < 100
    with pytest.raises(ValueError, match="square rasters"):
        thumbnails(np.zeros((2, 10)), 8)


def _write(path, frames, codec="png", pix_fmt="gray", **options):
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=8, options=options)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], pix_fmt
        for f in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(f, format="gray")))
        container.mux(stream.encode())


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Five distinct 32×32 clips (moving bars of their own brightness) and a noisy, lossy
    (mpeg4) copy of clip 2, a few grey levels per pixel from it."""
    folder = tmp_path_factory.mktemp("clips")
    noise = np.random.default_rng(3).integers(-8, 9, (12, 32, 32))
    for i in range(5):
        frames = np.zeros((12, 32, 32), np.uint8)
        for t in range(12):
            frames[t, :, (t + 5 * i) % 32 :] = 60 + 35 * i
        _write(folder / f"clip{i}.mov", frames)
        if i == 2:
            copy = np.clip(frames.astype(int) + noise, 0, 255).astype(np.uint8)
            _write(folder / "clip2_reencoded.mp4", copy, codec="mpeg4", pix_fmt="yuv420p", qscale="8")
    return folder


def test_a_re_encoded_clip_shares_the_split_of_its_original_for_every_seed(clips):
    for seed in range(12):
        component = FramesComponent(paths=[str(clips)], fps=8.0, frame_size=8, context_frames=2, split_seed=seed)
        component.build(None, BadItems("error"), SourceSplits())
        split_of = {f.rsplit("/", 1)[1]: s for s, files in component.files.items() for f in files}
        assert split_of["clip2.mov"] == split_of["clip2_reencoded.mp4"], seed
        assert [sorted(f.rsplit("/", 1)[1] for f in g) for g in component.groups] == [
            ["clip2.mov", "clip2_reencoded.mp4"]
        ]


def test_too_few_distinct_clips_fail_naming_the_groups(clips, tmp_path):
    for name in ("clip0.mov", "clip2.mov", "clip2_reencoded.mp4"):
        (tmp_path / name).symlink_to(clips / name)
    component = FramesComponent(paths=[str(tmp_path)], fps=8.0, frame_size=8, context_frames=2)
    with pytest.raises(ValueError, match=r"≥ 3 distinct videos.*2 group\(s\).*clip2_reencoded\.mp4"):
        component.build(None, BadItems("error"), SourceSplits())
