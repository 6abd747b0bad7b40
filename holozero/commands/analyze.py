"""``holozero analyze --ckpt_path CKPT``: where the model reads the zero door.

Per feature group (dxor, d2xor, boundary, fourier, phase) and per byte position in the slot,
per modality: (a) first-layer input weight mass, (b) Δbpb when a group or a slot position is
zeroed at the door, (c) gradient × input — the maths and their reading are in
``holozero/attribution.py``; this command runs them on a checkpoint (or ``--model``) and the
run's validation windows.

Writes ``analysis.json``, ``analysis.md`` and PNG heatmaps (group × modality, slot position ×
modality) into ``--out`` (default: ``analysis/`` beside the checkpoint's run).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from holozero.attribution import heatmaps, markdown, run, source_batches

from .args import CommandParser


def validation_batches(config: Path, windows: int) -> dict[str, dict]:
    """Up to ``windows`` fixed validation windows per modality of the run's own data."""
    import yaml

    from datamodules.base import WindowDataModule
    from models import ByteLM

    from .cli import HoloCLI

    saved = yaml.safe_load(Path(config).read_text())  # a saved fit config also holds fit-only keys
    cli = HoloCLI(
        ByteLM,
        WindowDataModule,
        subclass_mode_data=True,
        run=False,
        args={"model": saved["model"], "data": saved["data"]},
    )
    dm = cli.datamodule
    dm.prepare_data()
    dm.setup("validate")
    return source_batches(dm.val_sources, windows)


def main(argv: list[str] | None = None) -> None:
    p = CommandParser(
        prog="holozero analyze", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    model = p.add_mutually_exclusive_group(required=True)
    model.add_argument("--ckpt_path", help="a checkpoint written by holozero fit")
    model.add_argument("--model", help="a folder written by holozero export (or a Hub repo id, with --config)")
    p.add_argument(
        "--config", help="the run's config.yaml (default: beside the run, or the export's training_config.yaml)"
    )
    p.add_argument("--windows", type=int, default=64, help="validation windows per modality")
    p.add_argument("--out", help="output folder (default: <run>/analysis; with --model: ./analysis)")
    args = p.parse_args(argv)
    from .loading import load_net
    from .runs import run_dir_of

    # an exported folder is shared, so the analysis is written beside the caller, not into it
    home = run_dir_of(args.ckpt_path) if args.ckpt_path else None
    beside = home / "config.yaml" if home else Path(args.model) / "training_config.yaml"
    config = Path(args.config) if args.config else beside
    if not config.exists():
        raise SystemExit(f"no run config at {config}; pass --config")
    net, _ = load_net(ckpt_path=args.ckpt_path, model=args.model)
    result = run(net, validation_batches(config, args.windows))
    out = Path(args.out) if args.out else (home / "analysis" if home else Path("analysis"))
    out.mkdir(parents=True, exist_ok=True)
    (out / "analysis.json").write_text(json.dumps(result, indent=1))
    (out / "analysis.md").write_text(markdown(result))
    pngs = heatmaps(result, out)
    print(markdown(result))
    print(f"holozero analyze: {out / 'analysis.md'}, {out / 'analysis.json'}, {len(pngs)} heatmaps")
