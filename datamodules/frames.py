"""Images and video frames -> small grayscale rasters: ``size*size`` bytes, row-major, one per pixel.

Bytes are the model's only input, so a picture becomes the luma of a ``size``×``size`` thumbnail read
row by row. Images decode with torchvision (PNG, JPEG; gray, RGB, RGBA, 16-bit), videos with PyAV.

Video times are seconds from the first decoded frame, so a stream whose timestamps start late
(MPEG-TS, edit lists) still starts at 0.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator

import av
import numpy as np
import torch
import torchvision.io as tio
import torchvision.transforms.v2.functional as TF

from .errors import BadItemError


def gray_bytes(image: torch.Tensor, size: int = 16) -> torch.Tensor:
    """[H, W] or [C, H, W] image (uint8, uint16 or float in [0, 1]) -> uint8 luma raster [size*size]."""
    x = torch.as_tensor(image)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3 or x.shape[0] not in (1, 2, 3, 4):
        raise ValueError(f"expected [H, W] or [C, H, W] with 1-4 channels, got shape {tuple(x.shape)}")
    # work in float on the 0..255 scale and round once at the end, so 16-bit v*257 maps back to v exactly
    if x.dtype == torch.uint8:
        x = x.float()
    elif x.dtype == torch.uint16:
        x = x.to(torch.int32).float() / 257.0
    elif x.is_floating_point():
        x = x.float() * 255.0
    else:
        raise ValueError(f"unsupported image dtype {x.dtype}")
    if x.shape[0] in (3, 4):  # RGB(A): alpha is dropped, not composited
        x = TF.rgb_to_grayscale(x[:3])
    else:  # gray or gray+alpha
        x = x[:1]
    x = TF.resize(x, [size, size], antialias=True)
    return x.round().clamp(0, 255).to(torch.uint8).reshape(-1)


def thumbnails(frames: torch.Tensor | np.ndarray, size: int) -> np.ndarray:
    """[n, side*side] uint8 rasters -> [n, size*size] float64 at ``size``×``size`` (the same
    antialiased resize as ``gray_bytes``; rasters no larger are kept as they are)."""
    x = torch.as_tensor(np.asarray(frames)).float()
    side = math.isqrt(x.shape[1]) if x.ndim == 2 else 0
    if side < 1 or side * side != x.shape[1]:
        raise ValueError(f"expected [n, side*side] square rasters, got shape {tuple(x.shape)}")
    if side > size:
        x = TF.resize(x.reshape(-1, 1, side, side), [size, size], antialias=True).round().clamp(0, 255)
    return x.reshape(len(x), -1).double().numpy()


def _check_file(path: str | os.PathLike) -> None:
    if not os.path.isfile(path):
        raise BadItemError(path, "no such file")
    if os.path.getsize(path) == 0:
        raise BadItemError(path, "empty file (0 bytes)")


def load_gray(path: str | os.PathLike, size: int = 16) -> torch.Tensor:
    """Decode a PNG/JPEG file (8- or 16-bit, any channels) -> uint8 luma raster [size*size]."""
    _check_file(path)
    try:
        # UNCHANGED keeps 16-bit PNGs as torch.uint16 (not truncated to 8 bits) and keeps alpha
        image = tio.decode_image(tio.read_file(str(path)), mode=tio.ImageReadMode.UNCHANGED)
    except (RuntimeError, ValueError) as e:
        raise BadItemError(path, f"cannot decode image ({e})") from e
    if image.ndim != 3:  # e.g. an animated GIF decodes to [frames, C, H, W]
        raise BadItemError(path, f"expected a single image, decoded shape {tuple(image.shape)}")
    return gray_bytes(image, size)


def _decoded_frames(path: str | os.PathLike) -> Iterator[tuple[float, float, av.VideoFrame]]:
    """Yield (seconds from the first frame, frame period or 0 if unknown, frame) in presentation order."""
    _check_file(path)
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise BadItemError(path, "no video stream")
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate
            period = float(1 / rate) if rate else 0.0
            start = None
            for frame in container.decode(stream):
                if frame.time is None:
                    raise BadItemError(path, "video frame without a timestamp")
                start = frame.time if start is None else start
                yield frame.time - start, period, frame
            if start is None:
                raise BadItemError(path, "no decodable video frames")
    except av.FFmpegError as e:
        raise BadItemError(path, f"cannot decode video ({e})") from e


def video_frames(
    path: str | os.PathLike, fps: float = 2.0, size: int = 16, max_frames: int | None = None
) -> torch.Tensor:
    """Sample a video at times 0, 1/fps, 2/fps, ... -> uint8 [n_frames, size*size].

    Target time t takes the first frame whose time is >= t - period/2 (period: the stream's
    frame period), so timestamps rounded a little early still land on the frame meant for t, and
    a video slower than ``fps`` repeats frames. Sampling stops at the last frame: the final target
    is the last one whose threshold some frame reaches.
    """
    if fps <= 0 or (max_frames is not None and max_frames < 1):
        raise ValueError(f"need fps > 0 and max_frames >= 1 (or None), got fps={fps}, max_frames={max_frames}")
    limit = float("inf") if max_frames is None else max_frames
    out: list[torch.Tensor] = []
    frames = _decoded_frames(path)
    try:
        for t, period, frame in frames:
            while len(out) < limit and t >= len(out) / fps - period / 2:
                out.append(gray_bytes(torch.from_numpy(frame.to_ndarray(format="gray")), size))
            if len(out) >= limit:
                break
    finally:
        frames.close()
    return torch.stack(out)


def video_frame_at(path: str | os.PathLike, time: float, size: int = 16) -> torch.Tensor:
    """The frame shown at ``time`` seconds (the last frame with frame time <= ``time``) -> uint8 [size*size].

    The video ends one frame period after its last frame (at the last frame if the rate is
    unknown); a time outside [0, end) is a BadItemError.
    """
    if time < 0:
        raise BadItemError(path, f"time {time} s is negative")
    shown, last, period, later = None, 0.0, 0.0, False
    frames = _decoded_frames(path)
    try:
        for t, step, frame in frames:
            if t > time:
                later = True
                break
            shown, last, period = frame, t, step
    finally:
        frames.close()
    if not later and (time >= last + period if period else time > last):
        raise BadItemError(path, f"time {time} s is past the end of the video ({last + period:.3f} s)")
    return gray_bytes(torch.from_numpy(shown.to_ndarray(format="gray")), size)
