"""The compressor floors of a config's split, per segment, without a model: the content floors
``holozero evaluate`` reports (holozero/floors.py CONVENTION) beside the same compressors with
their containers counted (the library's default output: zlib, bz2, xz -9e), which is what the
floors were before issue #25 — so the change is measured on the same bytes.

    python scripts/split_floors.py configs/quickstart.yaml [--split test]
"""

from __future__ import annotations

import argparse
import bz2
import lzma
import zlib
from pathlib import Path

from holozero.commands.evaluate import build_data
from holozero.evaluation import split_bytes
from holozero.floors import COMPRESSORS, CONVENTION, floors, stream


def with_container(data: bytes, compressor: str) -> int:
    """Bytes of the library's default output (container included)."""
    if compressor == "zlib":
        return len(zlib.compress(data, 9))
    if compressor == "bz2":
        return len(bz2.compress(data, 9))
    if compressor == "xz":
        return len(lzma.compress(data, preset=9 | lzma.PRESET_EXTREME))
    return len(stream(data, compressor))  # PPMd: pyppmd's stream has no container


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config", type=Path)
    p.add_argument("--split", choices=["test", "val"], default="test")
    args = p.parse_args()
    dm = build_data(args.config)
    print(f"{args.config}, {args.split} split; {CONVENTION}.\n")
    print("| segment | bytes | " + " | ".join(f"{c} content | {c} container | Δ" for c in COMPRESSORS) + " |")
    print("|---|---" + "|---|---|---" * len(COMPRESSORS) + "|")
    for source in dm.sources(args.split).values():
        data = split_bytes(source)
        content = floors(data)
        cells = [source.segment, f"{len(data):,}"]
        for c in COMPRESSORS:
            container = 8.0 * with_container(data, c) / len(data)
            cells += [f"{content[c]:.4f}", f"{container:.4f}", f"{container - content[c]:+.4f}"]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
