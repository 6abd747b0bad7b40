"""The LightningModule: door + body (injected), training and evaluation steps, bits-per-byte
metrics, optimizer and schedule. Run facts and FLOPs are logged by ``callbacks.RunFacts``;
a matched budget sets ``schedule_horizon`` (``callbacks.BudgetStop``).

Batches are dicts from the data modules: ``ids`` [B, C+S] (prefix bytes then stream bytes)
and ``segment`` [B, S] (segment code of every stream byte, see holozero.segments).
"""

from __future__ import annotations

import math

import lightning as L
import torch
import torch.nn as nn
from lightning.pytorch.plugins.precision import Precision

from holozero.checkpoints import check_compatible, describe_model
from holozero.doors import Door
from holozero.losses import byte_bpb, mean_loss
from holozero.metrics import BitsPerByte

from .byte_model import ByteModel
from .decoder import Decoder


def peak_memory_mb() -> float:
    """Peak accelerator memory allocated, or on CPU the process's peak resident set size."""
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        return torch.cuda.max_memory_allocated() / 2**20
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class ByteLM(L.LightningModule):
    """Args:
    door: the input door (``class_path`` in YAML; K and dim are linked from data and body).
    body: the decoder body.
    lr, betas, weight_decay: AdamW. One rule for every arm: weight decay applies to the
        body's Linear weight matrices (attention, MLP, head) and to nothing else — no door
        parameter (table or projection alike), norm or bias is decayed (``decay_groups``).
    warmup_fraction, min_lr_ratio: the schedule's shape, the same for every arm whatever its
        step count: linear warmup over ``warmup_fraction`` of the run's horizon (at least one
        step), then cosine to ``lr·min_lr_ratio``, reached at the horizon's last step. The
        horizon is the trainer's ``max_steps`` or, when a FLOPs or bytes budget ends the run
        sooner, the step that budget stops at (``schedule_horizon``).
    per_byte: the per-byte baseline (no prefix; see ByteModel).
    per_byte_targets: what the per-byte baseline trains on: ``segment`` (every byte of a
        continuation window, the caption of a captioned window) or ``all`` (the conditioning too).
    compile: ``torch.compile`` the inner network (checkpoints keep plain keys).
    """

    def __init__(
        self,
        door: Door,
        body: Decoder,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.95),
        weight_decay: float = 0.1,
        warmup_fraction: float = 0.05,
        min_lr_ratio: float = 0.1,
        per_byte: bool = False,
        per_byte_targets: str = "segment",
        compile: bool = False,
    ):
        super().__init__()
        if not 0.0 <= warmup_fraction < 1.0:
            raise ValueError(f"warmup_fraction must be in [0, 1), got {warmup_fraction}")
        if not 0.0 <= min_lr_ratio <= 1.0:
            raise ValueError(f"min_lr_ratio must be in [0, 1], got {min_lr_ratio}")
        self.save_hyperparameters(ignore=["door", "body"])
        self.net = ByteModel(door, body, per_byte=per_byte, per_byte_targets=per_byte_targets)
        self.val_bpb = BitsPerByte()
        self.test_bpb = BitsPerByte()
        self._compiled = None
        self.flops_per_batch: int | None = None  # measured by callbacks.RunFacts / BudgetStop
        self.flops_by_layout: dict = {}  # FLOPs of one batch of each window layout (models.flops)
        self.schedule_horizon: int | None = None  # steps; set by a FLOPs or bytes budget
        self.model_config: dict | None = None  # the resolved YAML of this model, set by the CLI
        # Non-finite losses are flagged on the device (no host sync per step) and checked at
        # logging intervals and before any checkpoint is written.
        self.register_buffer("_bad_step", torch.tensor(-1), persistent=False)

    # --- network ---------------------------------------------------------------------
    def configure_model(self) -> None:
        if self.hparams.compile and self._compiled is None:
            # Kept outside the module tree: the state dict never sees `_orig_mod.` keys.
            object.__setattr__(self, "_compiled", torch.compile(self.net))

    def forward(self, ids: torch.Tensor, stream_len: int, targets: torch.Tensor | None = None):
        net = self._compiled if self._compiled is not None else self.net
        return net(ids, stream_len, targets)

    @property
    def learned_input_parameters(self) -> int:
        return self.net.door.learned_parameters

    def _nats(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        ids, segment = batch["ids"], batch["segment"]
        S = segment.shape[1]
        targets = ids[:, ids.shape[1] - S :]
        return self(ids, S, targets)[1], targets

    @torch.no_grad()
    def score(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-target nats and targets of a batch, in eval mode (for probes and metrics)."""
        was_training = self.training
        self.eval()
        try:
            batch = {k: v.to(self.device) for k, v in batch.items()}
            return self._nats(batch)
        finally:
            self.train(was_training)

    # --- steps -----------------------------------------------------------------------
    def on_train_batch_start(self, batch: dict, batch_idx: int) -> None:
        self._align_logging_step()

    def _align_logging_step(self) -> None:
        """One numbering: the step figures are logged at (and checkpoints record) is the optimizer
        step. Lightning's logging counter lags it by one during a validation in training (it
        counts the batch after validating) and comes back one short from a checkpoint written at
        a validation it did not schedule (the last step, a budget or a signal stop); with one
        batch per step the two must agree."""
        loop = self.trainer.fit_loop.epoch_loop
        if self.trainer.accumulate_grad_batches == 1 and loop._batches_that_stepped != self.global_step:
            loop._batches_that_stepped = self.global_step

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        targets = self.net.training_targets(batch["ids"], batch["segment"])
        nats = self(batch["ids"], batch["segment"].shape[1], targets)[1]
        loss = mean_loss(nats, targets)
        first_bad = (self._bad_step < 0) & ~torch.isfinite(loss)
        self._bad_step.copy_(torch.where(first_bad, torch.tensor(self.global_step), self._bad_step))
        if self.global_step % max(self.trainer.log_every_n_steps, 1) == 0:
            self.check_finite()
        bpb = byte_bpb(nats, targets)
        # tensors, not floats: Lightning reads them only at logging intervals (no host sync per step)
        self.log("train/loss", loss, prog_bar=True)
        self.log("train/bpb", bpb)
        self.log("train/lr", self.optimizers().param_groups[0]["lr"])
        return loss

    def check_finite(self) -> None:
        step = int(self._bad_step)
        if step >= 0:
            ckpt = self.trainer.checkpoint_callback
            last = getattr(ckpt, "last_model_path", "") or getattr(ckpt, "best_model_path", "") or "none yet"
            raise FloatingPointError(
                f"holozero: non-finite training loss at step {step}; stopping. No checkpoint was written after it; "
                f"the last good checkpoint is {last}"
            )

    def on_validation_start(self) -> None:
        self.check_finite()
        if self.trainer.state.fn == "fit" and not self.trainer.sanity_checking:
            self._align_logging_step()

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        self.check_finite()  # raising here leaves the previous (good) checkpoint untouched
        dm = self.trainer.datamodule if self._trainer is not None else None
        checkpoint["holozero"] = describe_model(self.net) | {
            "model_config": self.model_config,
            "layout": list(dm.text_layout) if getattr(dm, "text_layout", None) else None,
        }
        checkpoint["rng"] = {"torch": torch.get_rng_state()}

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        if "holozero" not in checkpoint:
            raise ValueError("this checkpoint was not written by holozero (no 'holozero' entry)")
        check_compatible(checkpoint["holozero"], self.net)
        if "rng" in checkpoint:
            torch.set_rng_state(checkpoint["rng"]["torch"])

    def validation_step(self, batch: dict, batch_idx: int, dataloader_idx: int = 0) -> None:
        nats, targets = self._nats(batch)
        self.val_bpb.update(nats, targets, batch["segment"])

    def on_validation_epoch_end(self) -> None:
        self._log_bpb("val", self.val_bpb)
        self.log("system/peak_memory_mb", peak_memory_mb())

    def test_step(self, batch: dict, batch_idx: int, dataloader_idx: int = 0) -> None:
        nats, targets = self._nats(batch)
        self.test_bpb.update(nats, targets, batch["segment"])

    def on_test_epoch_end(self) -> None:
        self._log_bpb("test", self.test_bpb)

    def predict_step(self, batch: dict, batch_idx: int, dataloader_idx: int = 0) -> dict:
        nats, targets = self._nats(batch)
        return {"nats": nats, "targets": targets, "segment": batch["segment"]}

    def _log_bpb(self, stage: str, metric: BitsPerByte) -> None:
        values = metric.compute()  # synced across processes by summing states
        # already equal on every rank: "max" keeps the value exact (a mean of equal floats may
        # round) and tells Lightning the value is synced, so it does not recommend sync_dist
        self.log_dict({f"{stage}/{k}": v for k, v in values.items()}, prog_bar=False, sync_dist=True, reduce_fx="max")
        metric.reset()

    # --- optimisation --------------------------------------------------------------------
    def decay_groups(self) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
        """(decayed, not decayed) trainable parameters: the body's Linear weight matrices are
        decayed; door parameters of every kind (tables, projections), norms and biases are not."""
        decayed = {id(m.weight) for m in self.net.body.modules() if isinstance(m, nn.Linear) and m.weight.requires_grad}
        params = [p for p in self.net.parameters() if p.requires_grad]
        return [p for p in params if id(p) in decayed], [p for p in params if id(p) not in decayed]

    def schedule_steps(self) -> tuple[int, int]:
        """(warmup steps, horizon steps) of this run: the horizon is the trainer's step count,
        or the step a FLOPs / bytes budget stops at when that comes first."""
        total = max(int(self.trainer.estimated_stepping_batches), 1)
        if self.schedule_horizon is not None:
            total = min(total, self.schedule_horizon)
        return warmup_steps(self.hparams.warmup_fraction, total), total

    def configure_optimizers(self):
        decay, no_decay = self.decay_groups()
        groups = [
            {"params": decay, "weight_decay": self.hparams.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ]
        fused = self.device.type in ("cuda", "cpu")
        optimizer = torch.optim.AdamW(groups, lr=self.hparams.lr, betas=tuple(self.hparams.betas), fused=fused)
        warmup, total = self.schedule_steps()
        floor = self.hparams.min_lr_ratio
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(step, warmup, total, floor))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    def configure_gradient_clipping(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None) -> None:
        """Clip as Lightning's full-precision plugin does, under bf16-mixed too. Lightning's
        mixed-precision plugin refuses clipping with a fused optimizer, a guard for fp16's grad
        scaler (gradients would be clipped before unscaling); bf16 has no scaler, so the
        gradients are already true and the plain clip is the right one."""
        plugin = self.trainer.precision_plugin
        if getattr(plugin, "scaler", None) is not None:  # fp16 with a scaler: Lightning's own rules
            return super().configure_gradient_clipping(optimizer, gradient_clip_val, gradient_clip_algorithm)
        if gradient_clip_val:
            Precision.clip_gradients(plugin, optimizer, gradient_clip_val, gradient_clip_algorithm or "norm")


def warmup_steps(fraction: float, horizon: int) -> int:
    """Warmup steps of a run whose schedule ends at ``horizon``: the nearest whole number of
    steps to ``fraction`` of it, at least one (a warmup of 0 steps is a warmup of 1: the first
    step already runs at the peak rate)."""
    return max(1, min(int(fraction * horizon + 0.5), horizon))  # the nearest step, halves up


def lr_factor(step: int, warmup: int, total: int, floor: float) -> float:
    """The learning-rate factor of optimizer step ``step`` (0-based): linear warmup reaching 1
    at step ``warmup - 1``, then cosine decay reaching ``floor`` at the last step ``total - 1``
    (and staying there if a run goes past its horizon)."""
    if step < warmup:
        return (step + 1) / warmup
    progress = min((step + 1 - warmup) / max(total - warmup, 1), 1.0)
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))
