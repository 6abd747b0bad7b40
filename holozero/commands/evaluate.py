"""``holozero evaluate``: the whole split scored, every byte exactly once, beside compressor floors.

    holozero evaluate --ckpt_path lightning_logs/version_0/checkpoints/best-479.ckpt          # test split
    holozero evaluate --ckpt_path CKPT --split val --context 512 --stride 128 --out val.json
    holozero evaluate --model exported/ --config lightning_logs/version_0/config.yaml

Each segment of the run's data (text, caption, audio, frame) is scored by sliding windows
(see holozero/evaluation.py): the first ``context`` ids of a window condition, the next
``stride`` bytes are scored, the first window scores from the split's start and the tail is
scored. Context and stride default to the training layout of each segment. The figures
(bpb, bytes_scored == bytes_in_split, context, stride) and the floors of zlib -9, bz2 -9,
xz -9e and PPMd order 6 on the same bytes (and the exact entropy rate of a synthetic
source) are printed as a table and written as JSON, by default into the evaluated run's
folder as ``evaluate-<split>-step<N>.json``. A floor counts the compressor's bits for the
content, not its container (holozero/floors.py); the rule is printed under the table and
written in the JSON as ``floor_convention``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from holozero.floors import CONTAINER_CONVENTION


def build_data(config: Path):
    """The data module of a run, from its saved ``config.yaml`` (set up, every split built)."""
    import yaml
    from jsonargparse import ArgumentParser

    from datamodules.base import WindowDataModule

    saved = yaml.safe_load(Path(config).read_text())
    if not isinstance(saved, dict) or "data" not in saved:
        raise ValueError(f"{config} has no data section (a run's config.yaml or a holozero config)")
    parser = ArgumentParser(exit_on_error=False)
    parser.add_subclass_arguments(WindowDataModule, "data")
    dm = parser.instantiate_classes(parser.parse_object({"data": saved["data"]})).data
    dm.prepare_data()
    dm.setup("test")
    return dm


def evaluate(net, dm, split: str, context: int | None, stride: int | None, batch_size: int, progress=True) -> dict:
    """{"segments": {seg: figures}, "floors": {seg: bpb per compressor}} of ``split``."""
    from tqdm import tqdm

    from holozero.evaluation import evaluate_source, split_bytes, window_count
    from holozero.floors import CONVENTION, floors

    segments, bounds = {}, {}
    for name, source in dm.sources(split).items():
        total = window_count(source, context, stride)
        with tqdm(total=total, desc=f"holozero evaluate {split} {name}", unit="window", disable=not progress) as bar:
            result = evaluate_source(net, source, context, stride, batch_size, progress=bar.update)
        segment = source.segment
        segments[segment] = result
        bounds[segment] = floors(split_bytes(source))
        floor = getattr(dm.components()[name], "bpb_floor", None)
        if floor is not None:  # a synthetic source: its exact entropy rate
            bounds[segment]["entropy_rate"] = floor
    return {"segments": segments, "floors": bounds, "floor_convention": CONVENTION}


def table(report: dict) -> str:
    from holozero.floors import COMPRESSORS

    names = list(COMPRESSORS)
    exact = any("entropy_rate" in f for f in report["floors"].values())
    head = ["segment", "bpb", "bytes scored", "bytes in split", "context", "stride", *names]
    head += ["entropy rate"] if exact else []
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for seg, r in report["segments"].items():
        f = report["floors"][seg]
        cells = [
            seg,
            f"{r['bpb']:.4f}",
            f"{r['bytes_scored']:,}",
            f"{r['bytes_in_split']:,}",
            r["context"],
            r["stride"],
        ]
        cells += [f"{f[n]:.4f}" if n in f else "" for n in names]
        cells += [f"{f['entropy_rate']:.4f}" if "entropy_rate" in f else ""] if exact else []
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    lines += ["", f"Floors in bits per byte; {report.get('floor_convention', CONTAINER_CONVENTION)}."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="holozero evaluate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--ckpt_path", help="a training checkpoint (its run's config.yaml gives the data)")
    which.add_argument("--model", help="an exported folder or Hub repo id (needs --config for the data)")
    p.add_argument("--config", help="the config whose data section to score (default: the checkpoint's run)")
    p.add_argument("--split", choices=["test", "val"], default="test")
    p.add_argument("--context", type=int, help="conditioning ids per window (default: each segment's training prefix)")
    p.add_argument("--stride", type=int, help="bytes scored per window (default: each segment's training stream)")
    p.add_argument("--batch_size", type=int, default=64)
    p.add_argument("--device", default="cpu", help="where the network scores: cpu, cuda, cuda:1 ... (float32 on each)")
    p.add_argument("--out", help="JSON file (default: <run>/evaluate-<split>-step<N>.json)")
    p.add_argument("--no_progress", action="store_true")
    args = p.parse_args(argv)
    for name in ("context", "stride", "batch_size"):
        value = getattr(args, name)
        if value is not None and value < 1:
            p.error(f"--{name} must be ≥ 1, got {value}")

    import torch

    try:
        device = torch.device(args.device)
    except RuntimeError:
        p.error(f"--device {args.device!r} is not a device (cpu, cuda, cuda:1, ...)")
    if device.type == "cuda" and not torch.cuda.is_available():
        p.error(f"--device {args.device}: no CUDA device here")

    from holozero.checkpoints import checkpoint_step

    from .loading import load_net
    from .runs import run_dir_of

    run_dir = run_dir_of(args.ckpt_path) if args.ckpt_path else None
    config = Path(args.config) if args.config else (run_dir / "config.yaml" if run_dir else None)
    if config is None or not config.is_file():
        p.error(f"no data config: {config} does not exist; pass --config" if config else "--model needs --config")
    net, _ = load_net(ckpt_path=args.ckpt_path, model=args.model)
    net = net.to(device)  # the scoring follows the network's device, always in float32
    step = checkpoint_step(args.ckpt_path) if args.ckpt_path else net.hub_config.get("step")
    report = {"split": args.split, "checkpoint": args.ckpt_path or args.model, "step": step}
    dm = build_data(config)
    report |= evaluate(net, dm, args.split, args.context, args.stride, args.batch_size, not args.no_progress)
    out = Path(args.out) if args.out else (run_dir or Path.cwd()) / f"evaluate-{args.split}-step{step}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    head = f"holozero evaluate: {args.split} split of {report['checkpoint']} (step {step}), scored in float32"
    print(f"{head}\n{table(report)}")
    print(f"holozero evaluate: {out}")
