"""The ``holozero`` command: a LightningCLI (fit / validate / test / predict).

    holozero fit --config configs/zero_k8.yaml --config configs/doors/hsl_proj.yaml --seed_everything 1

K is given once, as ``data.init_args.K``, and linked into the door; the door's width is
linked from the body's ``dim``. Precision defaults to bf16-mixed on a GPU that supports it
and 32-true on CPU. Logs go to TensorBoard under ``lightning_logs/``.
"""

from __future__ import annotations

import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import LightningCLI

from callbacks import BindingGapMonitor, ByteThroughputMonitor, ProbeSuite
from datamodules.base import WindowDataModule
from models import ByteLM


def default_precision() -> str:
    if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return "bf16-mixed"
    return "32-true"


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
        parser.add_lightning_class_args(ByteThroughputMonitor, "throughput")
        parser.add_lightning_class_args(BindingGapMonitor, "binding")
        parser.add_lightning_class_args(ProbeSuite, "probes")


def main(args: list[str] | None = None) -> None:
    HoloCLI(
        ByteLM,
        WindowDataModule,
        subclass_mode_data=True,
        save_config_kwargs={"overwrite": True},
        args=args,
    )


if __name__ == "__main__":
    main()
