"""``holozero analyze --ckpt_path CKPT``: where the model reads the zero door.

Channels enter the zero door unmixed at fixed addresses (byte k of a slot, channel c at
address k·27 + c), so the first learned layer can be read directly. Per feature group
(dxor, d2xor, boundary, fourier, phase) and per byte position in the slot, per modality:

(a) weight mass: norms of the first block's q / k / v and MLP input columns each channel
    feeds (times the LayerNorm gain in front of them); for ``hsl_proj`` the same columns
    projected through its learned input matrix. Weights are shared by the modalities.
(b) ablation: zero one group (or one slot position) at the door, Δbpb per modality with a
    95% interval over windows.
(c) gradient × input: |∂loss/∂feature · feature| summed per group / position, as shares,
    averaged over validation windows of each modality.

Writes ``analysis.json``, ``analysis.md`` and PNG heatmaps (group × modality, slot position ×
modality) into ``--out`` (default: ``analysis/`` beside the checkpoint's run).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from holozero.attribution import heatmaps, markdown, run, source_batches


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
    p = argparse.ArgumentParser(
        prog="holozero analyze", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--ckpt_path", required=True)
    p.add_argument("--config", help="the run's config.yaml (default: the one beside the checkpoint's run)")
    p.add_argument("--windows", type=int, default=64, help="validation windows per modality")
    p.add_argument("--out", help="output folder (default: <run>/analysis)")
    args = p.parse_args(argv)
    from .generate import load_model

    ckpt = Path(args.ckpt_path)
    config = Path(args.config) if args.config else ckpt.parent.parent / "config.yaml"
    if not config.exists():
        raise SystemExit(f"no run config at {config}; pass --config")
    net, _, _ = load_model(ckpt)
    result = run(net, validation_batches(config, args.windows))
    out = Path(args.out) if args.out else ckpt.parent.parent / "analysis"
    out.mkdir(parents=True, exist_ok=True)
    (out / "analysis.json").write_text(json.dumps(result, indent=1))
    (out / "analysis.md").write_text(markdown(result))
    pngs = heatmaps(result, out)
    print(markdown(result))
    print(f"holozero analyze: {out / 'analysis.md'}, {out / 'analysis.json'}, {len(pngs)} heatmaps")
