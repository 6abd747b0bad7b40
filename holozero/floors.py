"""Compressor floors: what general-purpose compressors achieve on the same bytes a model is
scored on, in bits per byte — the figures every bpb table stands beside (DESIGN.md §5).

zlib -9, bz2 -9 and xz -9e are the standard library's; PPMd (order 6, the PPMd variant H of
7-Zip) comes from ``pyppmd``. A compressor floor is an upper bound on what the bytes' entropy
allows, not the entropy itself; for synthetic sources the exact entropy rate stands beside it.
"""

from __future__ import annotations

import bz2
import lzma
import zlib

COMPRESSORS = ("zlib", "bz2", "xz", "ppmd")
PPMD_ORDER = 6
PPMD_MEMORY = 1 << 28  # 256 MiB of model memory, so a split of tens of MB is modelled without restarts


def compressed_size(data: bytes, compressor: str) -> int:
    """Bytes of ``data`` compressed by ``compressor`` at its strongest standard setting."""
    if compressor == "zlib":
        return len(zlib.compress(data, 9))
    if compressor == "bz2":
        return len(bz2.compress(data, 9))
    if compressor == "xz":
        return len(lzma.compress(data, preset=9 | lzma.PRESET_EXTREME))
    if compressor == "ppmd":
        import pyppmd

        encoder = pyppmd.Ppmd7Encoder(PPMD_ORDER, PPMD_MEMORY)
        return len(encoder.encode(data) + encoder.flush())
    raise ValueError(f"compressor must be one of {COMPRESSORS}, got {compressor!r}")


def floors(data: bytes) -> dict[str, float]:
    """Bits per byte of ``data`` under every compressor (8·compressed size / bytes)."""
    if not data:
        return {}
    return {name: 8.0 * compressed_size(data, name) / len(data) for name in COMPRESSORS}
