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
