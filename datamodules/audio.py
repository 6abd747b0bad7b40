"""Audio files -> 8-bit μ-law bytes: one byte per sample, so a byte LM reads sound as it reads text.

Any file libsndfile decodes (wav, flac, ogg; any rate, channel count and sample format) is mixed
to mono, resampled to one fixed rate and μ-law encoded with 256 levels. μ-law spends its 256 codes
logarithmically, which keeps quiet passages audible at one byte per sample. Decoding goes through
soundfile rather than ``torchaudio.load``, whose backend (torchcodec/FFmpeg) is not installed.
"""

from __future__ import annotations

import os
import re

import numpy as np
import soundfile
import torch
import torchaudio.functional as AF

from .errors import BadItemError

# libsndfile reads a truncated WAV without error, returning only the frames present; its log is
# the one place that says so: "data : <declared size> (should be <size present>)".
_SHORT_DATA = re.compile(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)


def encode_mulaw(samples: torch.Tensor | np.ndarray, orig_rate: int, sample_rate: int = 8000) -> torch.Tensor:
    """Samples in [-1, 1], shaped [n] or [n, channels] -> uint8 μ-law codes [m] at ``sample_rate``."""
    x = torch.as_tensor(samples).to(torch.float32)
    if x.ndim == 2:
        x = x.mean(dim=1)
    if x.ndim != 1 or x.numel() == 0:
        raise ValueError(f"expected a non-empty [n] or [n, channels] signal, got shape {tuple(x.shape)}")
    if orig_rate != sample_rate:
        x = AF.resample(x, orig_rate, sample_rate)
    # resampling can overshoot full scale (Gibbs ringing); μ-law is only defined on [-1, 1]
    x = x.clamp(-1.0, 1.0)
    return AF.mu_law_encoding(x, 256).to(torch.uint8)


def load_mulaw(path: str | os.PathLike, sample_rate: int = 8000) -> torch.Tensor:
    """Decode an audio file and return its μ-law bytes (uint8 [m]); bad input raises BadItemError."""
    if not os.path.isfile(path):
        raise BadItemError(path, "no such file")
    if os.path.getsize(path) == 0:
        raise BadItemError(path, "empty file (0 bytes)")
    try:
        data, rate = soundfile.read(path, dtype="float32", always_2d=True)
        log = soundfile.info(path).extra_info
    except (soundfile.LibsndfileError, RuntimeError) as e:
        raise BadItemError(path, f"cannot decode audio ({e})") from e
    short = _SHORT_DATA.search(log)
    if short and int(short.group(2)) < int(short.group(1)):
        raise BadItemError(path, f"truncated: data chunk declares {short.group(1)} bytes, {short.group(2)} present")
    if data.shape[0] == 0:
        raise BadItemError(path, "no audio frames")
    if not np.isfinite(data).all():
        raise BadItemError(path, "non-finite samples (NaN or inf)")
    return encode_mulaw(data, rate, sample_rate)


VOICED_FRAME_MS = 10  # energy is measured over 10 ms frames
VOICED_THRESHOLD_DB = -40.0  # a frame is voiced when within 40 dB of the recording's loudest frame


def voiced_start(codes, sample_rate: int = 8000) -> int:
    """Index of the first μ-law byte of the first voiced 10 ms frame: the leading silence a
    window skips (``audio_start: voiced``). A frame is voiced when its RMS is within 40 dB of
    the loudest frame of the recording; a recording with no frame above silence starts at 0."""
    x = AF.mu_law_decoding(torch.as_tensor(np.asarray(codes), dtype=torch.long), 256)
    frame = max(1, round(sample_rate * VOICED_FRAME_MS / 1000))
    n = x.numel() // frame
    if n == 0:
        return 0
    rms = x[: n * frame].view(n, frame).pow(2).mean(1).sqrt()
    peak = float(rms.max())
    if peak < 1e-3:  # below -60 dBFS everywhere: nothing is voiced, nothing is skipped
        return 0
    loud = torch.nonzero(rms >= peak * 10 ** (VOICED_THRESHOLD_DB / 20))
    return int(loud[0, 0]) * frame


def audio_offset(codes, audio_start, sample_rate: int = 8000, path: str = "audio") -> int:
    """Where a window's audio begins in a recording: ``"voiced"`` (the leading silence
    skipped) or a number of seconds; a start past the end is an error naming it."""
    if audio_start == "voiced":
        return voiced_start(codes, sample_rate)
    try:
        seconds = float(audio_start)
    except (TypeError, ValueError):
        raise ValueError(f"audio_start must be 'voiced' or a number of seconds, got {audio_start!r}") from None
    if seconds < 0:
        raise ValueError(f"audio_start must be ≥ 0 seconds, got {seconds}")
    offset = round(seconds * sample_rate)
    if offset >= len(codes):
        length = len(codes) / sample_rate
        raise BadItemError(path, f"audio_start {seconds} s is past the end of the recording ({length:.3f} s)")
    return offset
