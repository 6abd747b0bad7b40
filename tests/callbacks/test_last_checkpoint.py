"""LastAndBestCheckpoint: ``last.ckpt`` holds the run's last validated step even when that
validation was not the best (Lightning 2.6's ModelCheckpoint left it at the best step)."""

from __future__ import annotations

import lightning.pytorch as pl
import torch
from torch.utils.data import DataLoader, TensorDataset

from callbacks.last_checkpoint import LastAndBestCheckpoint

# val/bpb at the validations of steps 2, 4, 6: the best is step 4, the last (6) is worse
VAL_BPB = [3.0, 1.0, 2.0]


class ScriptedVal(pl.LightningModule):
    """A one-weight model whose validation reports the scripted val/bpb in turn."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))
        self.validations = 0

    def training_step(self, batch, batch_idx):
        return (self.w - batch[0].mean()).pow(2).sum()

    def validation_step(self, batch, batch_idx):
        self.log("val/bpb", VAL_BPB[self.validations])

    def on_validation_epoch_end(self):
        self.validations += 1

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def test_last_ckpt_is_the_last_validated_step_when_the_last_validation_is_not_the_best(tmp_path):
    data = DataLoader(TensorDataset(torch.arange(12.0).unsqueeze(-1)), batch_size=1)
    ckpt = LastAndBestCheckpoint(
        dirpath=tmp_path,
        monitor="val/bpb",
        mode="min",
        save_last=True,
        filename="best-{step}",
        auto_insert_metric_name=False,
    )
    trainer = pl.Trainer(
        max_steps=6,
        val_check_interval=2,
        limit_val_batches=1,
        num_sanity_val_steps=0,
        callbacks=[ckpt],
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
    )
    trainer.fit(ScriptedVal(), data, data)
    assert sorted(p.name for p in tmp_path.glob("best-*.ckpt")) == ["best-4.ckpt"]  # the monitor's best
    last = torch.load(tmp_path / "last.ckpt", map_location="cpu", weights_only=False)
    assert last["global_step"] == 6  # the last validated step, not the best's
