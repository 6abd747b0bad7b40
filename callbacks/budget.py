"""Stop a run at a matched budget — FLOPs, wall-clock seconds or training bytes seen — so
arms compare at equal compute, not equal steps.

A FLOPs or bytes budget is turned into a step count once, at setup: the whole number of steps
whose expected cost is nearest the budget (``horizon``). The run stops there and its LR
schedule ends there, so every arm finishes its own schedule whatever its cost per step. What
a run actually spent (each batch's own window layout, models/flops.py) is logged as
``budget/flops`` and ``budget/train_bytes``, beside the budget it was matched to."""

from __future__ import annotations

import time

from lightning.pytorch.callbacks import Callback
from lightning.pytorch.utilities import rank_zero_info

from models.flops import batch_flops, bytes_per_batch, ensure_flops_per_batch


class BudgetStop(Callback):
    """Args: flops, seconds, train_bytes — each None (no limit) or a positive number. A FLOPs or
    bytes budget stops the run at the step nearest to it (the expected FLOPs of a batch are the
    module's ``flops_per_batch``, forward + backward counted on the meta device, × processes;
    bytes are every input byte of every window, prefix + stream); a seconds budget stops it
    after the first step at which the wall-clock time is spent. val_every_flops: validate every
    this many training FLOPs (the nearest step) instead of every ``val_check_interval`` steps."""

    def __init__(
        self,
        flops: float | None = None,
        seconds: float | None = None,
        train_bytes: float | None = None,
        val_every_flops: float | None = None,
    ):
        values = (("flops", flops), ("seconds", seconds), ("train_bytes", train_bytes))
        for name, value in (*values, ("val_every_flops", val_every_flops)):
            if value is not None and value <= 0:
                raise ValueError(f"budget {name} must be positive, got {value}")
        self.flops, self.seconds, self.train_bytes = flops, seconds, train_bytes
        self.val_every_flops = val_every_flops
        self.spent = {"flops": 0.0, "seconds": 0.0, "train_bytes": 0.0}
        self.stop_step: int | None = None  # the horizon of a FLOPs / bytes budget
        self._t0: float | None = None

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.flops, self.seconds, self.train_bytes))

    def horizon(self, flops_per_batch: float | None, bytes_per_batch: float | None, world_size: int = 1) -> int | None:
        """The step count whose expected FLOPs or bytes are nearest the budget (the smaller of
        the two when both are set; at least one step): the run and its LR schedule end there.
        None when only a wall-clock budget is set or the rates are unknown."""
        steps = []
        if self.flops is not None and flops_per_batch:
            steps.append(self.flops / (flops_per_batch * world_size))
        if self.train_bytes is not None and bytes_per_batch:
            steps.append(self.train_bytes / (bytes_per_batch * world_size))
        return max(1, int(min(steps) + 0.5)) if steps else None  # the nearest step, halves up

    def setup(self, trainer, pl_module, stage: str) -> None:
        """Before the optimizer is configured: a FLOPs or bytes budget ends the LR schedule
        where it stops the run (``pl_module.schedule_horizon``, in steps)."""
        if stage != "fit" or not self.active:
            return
        shapes = getattr(trainer.datamodule, "batch_shapes", None) or []
        flops = ensure_flops_per_batch(trainer, pl_module) if self.flops is not None else None
        self.stop_step = self.horizon(flops, bytes_per_batch(shapes) or None, trainer.world_size)
        pl_module.schedule_horizon = self.stop_step

    def on_train_start(self, trainer, pl_module) -> None:
        self._t0 = time.perf_counter() - self.spent["seconds"]  # resumed runs keep what they spent
        if self.val_every_flops is not None:  # after Lightning has set its own interval from the config
            trainer.val_check_batch = self.validation_interval(ensure_flops_per_batch(trainer, pl_module), trainer)
        # a run resumed from a checkpoint at (or past) its budget has nothing left to train: the
        # stop is checked after each batch, so without this it would train one step past it
        spent = self.seconds is not None and self.spent["seconds"] >= self.seconds
        if spent or (self.stop_step is not None and trainer.global_step >= self.stop_step):
            trainer.should_stop = True
            rank_zero_info(f"holozero: budget already reached at step {trainer.global_step}: nothing to train")

    def validation_interval(self, flops_per_batch: float | None, trainer) -> int:
        """Steps between validations that put them at the same training FLOPs in every arm:
        the nearest whole step to ``val_every_flops`` (so arms at different FLOPs per step, and
        runs at different budgets, log their curves at one set of FLOP points)."""
        if not flops_per_batch:
            raise ValueError("budget.val_every_flops needs the FLOPs of a batch (the data module gives no shapes)")
        return max(1, int(self.val_every_flops / (flops_per_batch * trainer.world_size) + 0.5))

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if not self.active:
            return
        self.spent["seconds"] = time.perf_counter() - self._t0
        self.spent["train_bytes"] += batch["ids"].numel() * trainer.world_size
        self.spent["flops"] += batch_flops(pl_module, batch) * trainer.world_size
        hit = [name for name in ("flops", "train_bytes") if getattr(self, name) is not None]
        hit = hit if self.stop_step is not None and trainer.global_step >= self.stop_step else []
        if self.seconds is not None and self.spent["seconds"] >= self.seconds:
            hit.append("seconds")
        if hit:
            trainer.should_stop = True
            rank_zero_info(f"holozero: budget reached ({', '.join(hit)}) at step {trainer.global_step}: {self.spent}")
        for name, value in self.spent.items():
            pl_module.log(f"budget/{name}", float(value), on_step=True, on_epoch=False)

    def state_dict(self) -> dict:
        return dict(self.spent)

    def load_state_dict(self, state: dict) -> None:
        self.spent.update(state)
