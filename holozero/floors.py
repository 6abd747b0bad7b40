"""Compressor floors: what general-purpose compressors achieve on the same bytes a model is
scored on, in bits per byte — the figures every bpb table stands beside (DESIGN.md §5).

zlib -9, bz2 -9 and xz -9e (its LZMA2 filter) are the standard library's; PPMd (order 6, the
PPMd variant H of 7-Zip) comes from ``pyppmd``. A floor counts the compressor's bits for the
content only (``CONVENTION``): a container's headers and checksums are a fixed cost per call
(xz's is 56–60 bytes: +0.23 bits per byte on a 2,048-byte split) that says nothing about the
bytes. A compressor floor is an upper bound on what the bytes' entropy allows, not the
entropy itself; for synthetic sources the exact entropy rate stands beside it.
"""

from __future__ import annotations

import bz2
import lzma
import zlib

COMPRESSORS = ("zlib", "bz2", "xz", "ppmd")
PPMD_ORDER = 6
PPMD_MEMORY = 1 << 28  # 256 MiB of model memory, so a split of tens of MB is modelled without restarts
XZ_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}]  # the filter chain of xz -9e

# what an evaluate.json written before CONVENTION holds (no "floor_convention" key)
CONTAINER_CONVENTION = "floors from an older `holozero evaluate`: each compressor's container bytes included"
CONVENTION = (
    "floors count each compressor's bits for the content, not its container: raw deflate (no zlib "
    "header or Adler-32), raw LZMA2 (no .xz container; its chunk headers and end marker not counted), "
    "bz2 less its stream header, block headers and end of stream, and every output less what the "
    "compressor's code of an empty input costs (deflate's final empty block, PPMd's range-coder flush): "
    "an empty input costs 0 bits"
)

# bz2: "BZh9" then blocks, each opened by a 48-bit magic and its 32-bit CRC (10 bytes), then a
# 48-bit end-of-stream magic and the 32-bit stream CRC. Blocks are bit-aligned, not byte-aligned.
BZ2_BLOCK_MAGIC = (0x314159265359).to_bytes(6, "big")
BZ2_BLOCK_HEADER = 10


def stream(data: bytes, compressor: str) -> bytes:
    """The rawest stream the library writes for ``data`` at the compressor's strongest setting."""
    if compressor == "zlib":
        encoder = zlib.compressobj(9, zlib.DEFLATED, -15)  # negative wbits: raw deflate, no zlib wrapper
        return encoder.compress(data) + encoder.flush()
    if compressor == "bz2":
        return bz2.compress(data, 9)  # the library writes no rawer form
    if compressor == "xz":
        return lzma.compress(data, format=lzma.FORMAT_RAW, filters=XZ_FILTERS)
    if compressor == "ppmd":
        import pyppmd

        encoder = pyppmd.Ppmd7Encoder(PPMD_ORDER, PPMD_MEMORY)
        return encoder.encode(data) + encoder.flush()
    raise ValueError(f"compressor must be one of {COMPRESSORS}, got {compressor!r}")


def lzma2_payload(raw: bytes) -> int:
    """Bytes of the chunk payloads of a raw LZMA2 stream: the stream less its chunk headers
    (control byte, sizes, properties byte) and its end marker. Format: xz's lzma2_decoder.c."""
    i, payload = 0, 0
    while i < len(raw):
        control = raw[i]
        if control == 0x00:  # end of stream
            if i != len(raw) - 1:
                raise ValueError(f"raw LZMA2 stream ends at byte {i} of {len(raw)}")
            return payload
        if control in (0x01, 0x02):  # stored chunk: 2 bytes of size - 1, then the bytes themselves
            size, header = int.from_bytes(raw[i + 1 : i + 3], "big") + 1, 3
        elif control >= 0x80:  # LZMA chunk: 2 bytes unpacked, 2 bytes packed size - 1, a props byte if reset
            size, header = int.from_bytes(raw[i + 3 : i + 5], "big") + 1, 6 if control >= 0xC0 else 5
        else:
            raise ValueError(f"invalid LZMA2 control byte {control:#04x} at byte {i}")
        payload += size
        i += header + size
    raise ValueError("raw LZMA2 stream has no end marker")


def bz2_blocks(compressed: bytes) -> int:
    """How many blocks a bz2 stream holds: occurrences of the block magic at every bit offset
    (a chance match inside coded data has probability 2⁻⁴⁸ per bit)."""
    bits = int.from_bytes(compressed, "big")
    return sum((bits << shift).to_bytes(len(compressed) + 1, "big").count(BZ2_BLOCK_MAGIC) for shift in range(8))


def coded_size(data: bytes, compressor: str) -> int:
    """Bytes ``compressor`` spends on the content of ``data`` (``CONVENTION``; 0 for no data)."""
    out = stream(data, compressor)
    if compressor == "xz":
        return lzma2_payload(out)
    framing = len(stream(b"", compressor))  # the empty input's code: headers, end markers, flushes
    if compressor == "bz2":
        framing += BZ2_BLOCK_HEADER * bz2_blocks(out)
    return len(out) - framing


def floors(data: bytes) -> dict[str, float]:
    """Bits per byte of ``data`` under every compressor (8·coded size / bytes)."""
    if not data:
        return {}
    return {name: 8.0 * coded_size(data, name) / len(data) for name in COMPRESSORS}
