"""Zero-door attribution during training: every N validations, the analysis of
``holozero analyze`` on a few validation windows, logged to TensorBoard as heatmap images
and scalars (``attribution/<modality>/<group>``)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import matplotlib.image
from lightning.pytorch.callbacks import Callback

from holozero.attribution import heatmaps, readable, run, source_batches


class AttributionMonitor(Callback):
    """Args: every_n_val (0 = off), windows per modality."""

    def __init__(self, every_n_val: int = 0, windows: int = 16):
        self.every_n_val, self.windows, self.rounds = every_n_val, windows, 0

    def on_validation_epoch_end(self, trainer, lm) -> None:
        if self.every_n_val <= 0 or trainer.sanity_checking:
            return
        self.rounds += 1
        net = lm.net
        if self.rounds % self.every_n_val or not readable(net):
            return
        sources = getattr(trainer.datamodule, "val_sources", {}) or {}
        was_training = net.training
        result = run(net, source_batches(sources, self.windows))
        net.train(was_training)
        for modality, entry in result["modalities"].items():
            for group, share in entry["grad_x_input"]["groups"].items():
                lm.log(f"attribution/{modality}/{group}", share)
        experiment = getattr(trainer.logger, "experiment", None)
        if experiment is not None and hasattr(experiment, "add_image"):
            with tempfile.TemporaryDirectory() as tmp:
                for path in heatmaps(result, Path(tmp)):
                    image = matplotlib.image.imread(path)[..., :3]
                    experiment.add_image(f"attribution/{path.stem}", image, trainer.global_step, dataformats="HWC")
