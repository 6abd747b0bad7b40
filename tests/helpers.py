"""Shared by the tests: run the CLI in-process and read TensorBoard's own events; tiny data."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
from lightning.pytorch.callbacks import Callback

from datamodules.sources import CaptionSource
from holozero.commands import main
from holozero.commands.events import read_scalars as scalars  # noqa: F401 (used by the tests)
from holozero.specials import EOS, PAD, SEP


def run_cli(args: list[str]) -> None:
    main(args=args)


def write_docs(folder: Path, docs: list[np.ndarray]) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    for i, doc in enumerate(docs):
        (folder / f"doc{i:03d}.bin").write_bytes(np.asarray(doc, dtype=np.uint8).tobytes())
    return [str(folder)]


class KillAtStep(Callback):
    """SIGKILLs its own process at the start of training step ``step`` (tests of resume)."""

    def __init__(self, step: int):
        self.step = step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.global_step == self.step:
            os.kill(os.getpid(), signal.SIGKILL)


class CountSaves(Callback):
    """Counts checkpoint writes and records the file names (tests of checkpoint cadence)."""

    saves: list = []

    def on_save_checkpoint(self, trainer, pl_module, checkpoint):
        CountSaves.saves.append(trainer.global_step)


def tiny_fit_args(
    paths,
    root: Path,
    steps: int,
    *,
    door: str = "ZeroDoor",
    dim: int = 64,
    layers: int = 1,
    heads: int = 2,
    K: int = 2,
    context: int = 16,
    stream: int = 16,
    batch: int = 4,
    val_bytes: int = 256,
    val_every: int = 4,
    log_every: int = 1,
    seed: int = 0,
) -> list[str]:
    """CLI arguments of a small text-only run over ``paths``, cached under ``root``'s parent."""
    return [
        "--seed_everything", str(seed), "--trainer.default_root_dir", str(root), "--trainer.max_steps", str(steps),
        "--trainer.val_check_interval", str(val_every), "--trainer.check_val_every_n_epoch", "null",
        "--trainer.log_every_n_steps", str(log_every), "--trainer.enable_progress_bar", "false",
        "--trainer.enable_model_summary", "false", "--model.door", f"holozero.doors.{door}",
        "--model.body", "models.Decoder", "--model.body.init_args.dim", str(dim),
        "--model.body.init_args.n_layers", str(layers), "--model.body.init_args.n_heads", str(heads),
        "--data", "datamodules.TextDataModule", "--data.init_args.text.paths", str(paths), "--data.init_args.K", str(K),
        "--data.init_args.text.context_bytes", str(context), "--data.init_args.text.stream_bytes", str(stream),
        "--data.init_args.batch_size", str(batch), "--data.init_args.val_bytes", str(val_bytes),
        "--data.init_args.cache_dir", str(Path(root).parent / "cache"),
    ]  # fmt: skip


FRAME, AUDIO, CAP = 4, 6, 5  # tiny layout: 4 frame bytes, 6 audio bytes, 5 caption ids


def tiny_captions(n: int, labels=None, caption_values=None) -> CaptionSource:
    """Item i: frame bytes all = 10+i, audio bytes all = 100+i, caption bytes = caption_values[i]."""
    caption_values = list(range(10, 10 + n)) if caption_values is None else caption_values
    prefix = np.full((n, FRAME + 1 + AUDIO + 1), PAD, dtype=np.int64)
    stream = np.full((n, CAP), PAD, dtype=np.int64)
    for i in range(n):
        prefix[i, :FRAME] = 10 + i
        prefix[i, FRAME] = SEP
        prefix[i, FRAME + 1 : FRAME + 1 + AUDIO] = 100 + i
        prefix[i, -1] = SEP
        stream[i, :3] = caption_values[i]
        stream[i, 3] = EOS
    labels = np.array([str(x) for x in (labels if labels is not None else range(n))])
    return CaptionSource(prefix, stream, labels, frame_len=FRAME)
