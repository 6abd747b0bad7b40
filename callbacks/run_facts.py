"""Facts of a run, logged once at the start of training: learned input parameters, body
parameters and their total (the parameters that train: ``ByteModel.parameter_counts``), the
control door's table seed, skipped data items and the training FLOPs per batch and per byte."""

from __future__ import annotations

from lightning.pytorch.callbacks import Callback
from lightning.pytorch.utilities import rank_zero_info

from datamodules.summary import format_summary, summary_scalars
from holozero.checkpoints import table_seed
from models.flops import bytes_per_batch, ensure_flops_per_batch


class RunFacts(Callback):
    def setup(self, trainer, lm, stage: str) -> None:
        if stage == "fit":  # before the throughput monitor's first batch reads it
            ensure_flops_per_batch(trainer, lm)

    def on_fit_start(self, trainer, lm) -> None:
        net = lm.net
        counts = net.parameter_counts()
        door, body, total = counts["learned_input"], counts["body"], counts["total"]
        rank_zero_info(
            f"holozero: door={type(net.door).__name__}(K={net.door.K}) learned input params={door:,}; "
            f"body params={body:,} (dim {net.body.dim}, {net.body.n_layers} layers, "
            f"{net.body.n_heads} heads); total trainable={total:,}"
        )
        if lm.logger is None:
            return
        skipped = getattr(trainer.datamodule, "skipped_items", 0)
        facts = {f"model/{kind}_params": n for kind, n in counts.items()} | {"data/skipped_items": skipped}
        seed = table_seed(net.door)
        if seed is not None:  # which table a seeded control drew: the report shows it per run
            facts["model/table_seed"] = seed
        summary = getattr(trainer.datamodule, "summary", None)
        if summary:  # the dataset summary printed at setup, as scalars and as text
            facts |= summary_scalars(summary)
            experiment = getattr(lm.logger, "experiment", None)
            if experiment is not None and hasattr(experiment, "add_text"):
                experiment.add_text("data/summary", "```\n" + format_summary(summary) + "\n```", 0)
        lm.logger.log_metrics(facts, step=0)
        flops = ensure_flops_per_batch(trainer, lm)
        per_batch = bytes_per_batch(getattr(trainer.datamodule, "batch_shapes", None) or [])
        if flops and per_batch:
            lm.logger.log_metrics(
                {"model/flops_per_batch": float(flops), "model/flops_per_byte": flops / per_batch}, step=0
            )

    def on_train_batch_end(self, trainer, lm, outputs, batch, batch_idx) -> None:
        door = lm.net.door
        if door.tail == "drop":  # bytes cut from prefixes by tail="drop", counted, never silent
            lm.log("data/dropped_bytes", float(door.dropped_bytes), on_step=True, on_epoch=False)
