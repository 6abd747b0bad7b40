"""RunFacts logs the parameters that train: learned input, body and their total, as counted
here from the modules' own tensors (the per-byte baseline without the slot table it never reads)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from callbacks.run_facts import RunFacts
from holozero.doors import build_door
from holozero.specials import NUM_IDS
from models import ByteLM, Decoder


class _Logger:
    experiment = None

    def __init__(self):
        self.logged: dict = {}

    def log_metrics(self, metrics: dict, step: int) -> None:
        self.logged |= metrics


@pytest.mark.parametrize("door,per_byte,K", [("byte_embed", True, 1), ("hash_ngram", False, 2), ("zero", False, 2)])
def test_the_logged_counts_are_the_tensors_that_train(door, per_byte, K):
    lm = ByteLM(build_door(door, K=K, dim=64), Decoder(dim=64, n_layers=1, n_heads=4), per_byte=per_byte)
    logger = _Logger()
    trainer = SimpleNamespace(datamodule=SimpleNamespace(batch_shapes=None), logger=logger)
    lm._trainer = trainer  # what lm.logger reads
    RunFacts().on_fit_start(trainer, lm)
    body = sum(p.numel() for p in lm.net.body.parameters())
    door_tensors = sum(p.numel() for p in lm.net.door.parameters())
    assert logger.logged["model/body_params"] == body
    assert logger.logged["model/learned_input_params"] == door_tensors
    assert logger.logged["model/total_params"] == body + door_tensors
    if per_byte:  # the stream table alone: 259·64
        assert logger.logged["model/learned_input_params"] == NUM_IDS * 64
