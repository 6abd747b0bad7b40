"""The run's checkpoint callback: the best validated step by ``monitor`` (``best-{step}.ckpt``)
and ``last.ckpt`` at every validated step, whether or not it improved.

Lightning 2.6 writes ``last.ckpt`` only when a top-k checkpoint is saved at the same step
(before 2.6 it always did): with ``save_top_k=1`` a run whose last validation was not its best
kept ``last.ckpt`` at an earlier step, and everything that scores a run's last step (the sweep's
test and evaluate, resume) read a model short of its budget — a budget run of 2,013 steps was
scored at step 1,764. This keeps the pre-2.6 meaning on every version the project allows."""

from __future__ import annotations

from lightning.pytorch.callbacks import ModelCheckpoint


class LastAndBestCheckpoint(ModelCheckpoint):
    """ModelCheckpoint whose ``last.ckpt`` follows every validation end (when ``save_last``)."""

    def on_validation_end(self, trainer, pl_module) -> None:
        super().on_validation_end(trainer, pl_module)
        if not self.save_last or self._should_skip_saving_checkpoint(trainer):
            return  # not saving (sanity check, not fitting), or this step is already saved
        if self._should_save_on_train_epoch_end(trainer):
            return  # checkpoints at epoch ends, not at validations: Lightning's own schedule
        self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))
