"""The ``holozero`` command: a LightningCLI (fit / validate / test / predict) plus
``holozero generate``.

    holozero fit --config configs/zero_k8.yaml --config configs/doors/hsl_proj.yaml --seed_everything 1
    holozero fit --config configs/quickstart.yaml --ckpt_path last      # resume the latest run here

K is given once, as ``data.init_args.K``, and linked into the door; the door's width is
linked from the body's ``dim``. Precision defaults to bf16-mixed on a GPU that supports it
and 32-true on CPU. Logs go to TensorBoard under ``lightning_logs/``.
"""

from __future__ import annotations

from pathlib import Path

import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import LightningCLI

from callbacks import AttributionMonitor, BindingGapMonitor, BudgetStop, ByteThroughputMonitor, ProbeSuite, RunFacts
from datamodules.base import WindowDataModule
from holozero.checkpoints import check_compatible, read_checkpoint
from models import ByteLM


def default_precision() -> str:
    if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return "bf16-mixed"
    return "32-true"


def latest_run(root: Path) -> tuple[Path, int] | None:
    """(last.ckpt, version) of the newest lightning_logs/version_N under ``root`` that has one."""
    runs = []
    for d in (root / "lightning_logs").glob("version_*"):
        ckpt = d / "checkpoints" / "last.ckpt"
        if ckpt.is_file() and d.name.split("_")[-1].isdigit():
            runs.append((int(d.name.split("_")[-1]), ckpt))
    if not runs:
        return None
    version, ckpt = max(runs)
    return ckpt, version


class HoloCLI(LightningCLI):
    def add_arguments_to_parser(self, parser) -> None:
        parser.link_arguments("data.init_args.K", "model.door.init_args.K", apply_on="parse")
        parser.link_arguments("model.body.init_args.dim", "model.door.init_args.dim", apply_on="parse")
        parser.add_lightning_class_args(ModelCheckpoint, "checkpoint")
        parser.set_defaults(
            {
                "checkpoint.monitor": "val/bpb",
                "checkpoint.mode": "min",
                "checkpoint.save_last": True,
                "checkpoint.filename": "best-{step}",
                "checkpoint.auto_insert_metric_name": False,
                "trainer.precision": default_precision(),
            }
        )
        parser.add_lightning_class_args(RunFacts, "run_facts")
        parser.add_lightning_class_args(ByteThroughputMonitor, "throughput")
        parser.add_lightning_class_args(BindingGapMonitor, "binding")
        parser.add_lightning_class_args(ProbeSuite, "probes")
        parser.add_lightning_class_args(BudgetStop, "budget")
        parser.add_lightning_class_args(AttributionMonitor, "attribution")

    def _parse_ckpt_path(self) -> None:
        """Before Lightning reads hyperparameters from ``--ckpt_path``: resolve ``last`` (the
        newest run under the root dir, which the resumed run keeps logging into) and refuse a
        corrupt or foreign file with a message naming it."""
        sub = self.config.get("subcommand")
        cfg = self.config.get(sub) if sub else None
        if cfg is not None and cfg.get("ckpt_path") == "last":
            root = Path(cfg.trainer.default_root_dir or ".")
            found = latest_run(root)
            if found is None:
                raise FileNotFoundError(
                    f"--ckpt_path last: no lightning_logs/version_*/checkpoints/last.ckpt under {root}"
                )
            ckpt, version = found
            cfg.ckpt_path = str(ckpt)
            if cfg.trainer.logger in (None, True):
                cfg.trainer.logger = {
                    "class_path": "lightning.pytorch.loggers.TensorBoardLogger",
                    "init_args": {"save_dir": str(root), "version": version},
                }
        if cfg is not None and cfg.get("ckpt_path"):
            read_checkpoint(cfg.ckpt_path)
        super()._parse_ckpt_path()

    def instantiate_classes(self) -> None:
        super().instantiate_classes()
        cfg = self.config.get(self.subcommand) if self.subcommand else self.config
        self.model.model_config = cfg.model.as_dict()
        ckpt = cfg.get("ckpt_path")
        if ckpt:  # a corrupt or mismatched checkpoint is named before the trainer touches it
            check_compatible(read_checkpoint(ckpt)["holozero"], self.model.net, ckpt)


def main(args: list[str] | None = None) -> None:
    HoloCLI(
        ByteLM,
        WindowDataModule,
        subclass_mode_data=True,
        save_config_kwargs={"overwrite": True},
        args=args,
    )
