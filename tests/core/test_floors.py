"""Compressor floors count the compressor's bits for the content, never its container: checked
against sizes computed here from the formats' own fixed costs, on inputs whose answer is known."""

from __future__ import annotations

import bz2
import lzma
import os
import zlib

import numpy as np
import pytest

from datamodules.controls import markov2_chain
from holozero.floors import COMPRESSORS, bz2_blocks, coded_size, floors, lzma2_payload, stream

XZ_9E = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}]


@pytest.fixture(scope="module")
def markov_bytes() -> bytes:
    """20,000 bytes of an order-2 Markov source: one bz2 block, one LZMA2 chunk."""
    return markov2_chain(alphabet=8, seed=1).sample(20_000, np.random.default_rng(3)).astype(np.uint8).tobytes()


def test_an_empty_input_costs_nothing():
    assert {c: coded_size(b"", c) for c in COMPRESSORS} == dict.fromkeys(COMPRESSORS, 0)
    assert floors(b"") == {}


def test_floors_are_the_output_less_the_formats_fixed_bytes(markov_bytes):
    """Each figure computed from the library's usual output and the format's documented framing:
    zlib: a 2-byte header, a 4-byte Adler-32 and a 2-byte final empty block (zlib.compress(b"")
    is those 8 bytes); bz2: a 4-byte header, a 10-byte end of stream and a 10-byte block header
    (magic and CRC) for its one block; raw LZMA2 (xz -9e's filter): one chunk's 6-byte header
    and the 1-byte end marker; PPMd: the range coder's 5 bytes on an empty input."""
    data, n = markov_bytes, len(markov_bytes)
    f = floors(data)
    assert len(zlib.compress(b"", 9)) == 8
    assert f["zlib"] == 8 * (len(zlib.compress(data, 9)) - 8) / n
    assert len(bz2.compress(b"", 9)) == 14
    assert f["bz2"] == 8 * (len(bz2.compress(data, 9)) - 14 - 10) / n
    raw = lzma.compress(data, format=lzma.FORMAT_RAW, filters=XZ_9E)
    assert raw[0] >= 0xE0 and raw[-1] == 0 and len(raw) < 2**16  # one LZMA chunk: dict reset + props
    assert f["xz"] == 8 * (len(raw) - 6 - 1) / n
    import pyppmd

    encoder = pyppmd.Ppmd7Encoder(6, 1 << 28)
    packed = encoder.encode(data) + encoder.flush()
    assert pyppmd.Ppmd7Decoder(6, 1 << 28).decode(packed, n) == data  # a real code, not a size
    assert f["ppmd"] == 8 * (len(packed) - 5) / n
    # the .xz container alone was 56-60 bytes on every call: the floor no longer carries it
    xz_file = len(lzma.compress(data, preset=9 | lzma.PRESET_EXTREME))
    assert 8 * xz_file / n - f["xz"] >= 8 * 56 / n
    # a Markov source of entropy H: no compressor beats H, PPMd (a context model) comes closest
    assert markov2_chain(alphabet=8, seed=1).entropy_rate < f["ppmd"] < f["zlib"]


def test_incompressible_bytes_cost_exactly_eight_bits_under_xz():
    """LZMA2 stores a chunk it cannot shrink: 200,000 random bytes are 200,000 bytes of content
    (in 4 stored chunks), so the floor is 8 bits per byte exactly — with the .xz container, 8.0029."""
    data = np.random.default_rng(0).integers(0, 256, 200_000, dtype=np.uint8).tobytes()
    assert floors(data)["xz"] == 8.0


def test_every_bz2_block_header_is_framing():
    """bzip2 -9 cuts a block every 899,981 bytes after its run-length stage (random bytes have no
    runs to shorten): 2,000,000 bytes are 3 blocks, each with its 10-byte header."""
    data = np.random.default_rng(1).integers(0, 256, 2_000_000, dtype=np.uint8).tobytes()
    out = bz2.compress(data, 9)
    assert bz2_blocks(out) == 3 == -(-len(data) // 899_981)
    assert coded_size(data, "bz2") == len(out) - 14 - 3 * 10
    assert bz2_blocks(bz2.compress(b"", 9)) == 0 and bz2_blocks(bz2.compress(b"x", 9)) == 1


def test_a_broken_lzma2_stream_is_refused():
    raw = stream(os.urandom(100), "xz")
    assert lzma2_payload(raw) == 100
    with pytest.raises(ValueError, match="no end marker"):
        lzma2_payload(raw[:-1])
    with pytest.raises(ValueError, match="control byte"):
        lzma2_payload(b"\x05" + raw)
    with pytest.raises(ValueError, match="ends at byte"):
        lzma2_payload(raw + b"\x00")


def test_an_unknown_compressor_is_named():
    with pytest.raises(ValueError, match="compressor must be one of"):
        coded_size(b"abc", "brotli")
