"""Total and learned input parameters of every arm on one body, without training: every door
preset at K (one-hot at K=1, the only K its 259 channels per byte fit) and the per-byte
baseline (byte_embed, K=1, no slot table), counted as a run logs them
(``ByteModel.parameter_counts``: the parameters that train).

    python scripts/param_counts.py configs/sweeps/map_cpu.yaml [--K 8] [--config more.yaml ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from holozero.doors import PRESETS, build_door
from models import ByteModel, Decoder


def body_args(configs: list[Path]) -> dict:
    """``model.body.init_args`` of the configs, later ones overriding earlier ones."""
    args: dict = {}
    for path in configs:
        saved = yaml.safe_load(path.read_text()) or {}
        args |= ((saved.get("model") or {}).get("body") or {}).get("init_args") or {}
    if "dim" not in args:
        raise SystemExit(f"no model.body.init_args.dim in {', '.join(map(str, configs))}")
    return args


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config", type=Path)
    p.add_argument("--config", dest="more", type=Path, action="append", default=[], help="stacked on top")
    p.add_argument("--K", type=int, default=8)
    args = p.parse_args()
    body = body_args([args.config, *args.more])
    dim = body["dim"]
    arms = [(name, 1 if name == "onehot" else args.K, False) for name in sorted(PRESETS)] + [("byte_embed", 1, True)]
    print(f"body: {body}\n")
    print("| arm | K | total params | learned input params | body params |\n|---|---|---|---|---|")
    for name, K, per_byte in arms:
        try:
            door = build_door(name, K=K, dim=dim)
        except ValueError as e:  # a fixed door whose K·features do not fit the width
            print(f"| {name} | {K} | – | – | – ({e}) |")
            continue
        counts = ByteModel(door, Decoder(**body), per_byte=per_byte).parameter_counts()
        label = "per_byte" if per_byte else name
        print(f"| {label} | {K} | {counts['total']:,} | {counts['learned_input']:,} | {counts['body']:,} |")


if __name__ == "__main__":
    main()
