import math

from holozero.doors import DOORS
from models import ByteLM, Decoder


def _lm(door="byte_embed", **kw):
    return ByteLM(DOORS[door](K=2, dim=64), Decoder(dim=64, n_layers=1, n_heads=4), **kw)


class _Trainer:  # the two attributes configure_optimizers reads
    estimated_stepping_batches = 1000
    callbacks: list = []


def test_no_weight_decay_on_norms_biases_embeddings_and_tables():
    lm = _lm("byte_embed")
    lm._trainer = _Trainer()
    opt = lm.configure_optimizers()["optimizer"]
    decay, no_decay = ({id(p) for p in g["params"]} for g in opt.param_groups)
    names = {id(p): n for n, p in lm.named_parameters()}
    assert all(
        n.endswith("weight") and ("qkv" in n or "proj" in n or "gate_up" in n or "down" in n or "head" in n)
        for i, n in names.items()
        if i in decay
    )
    for n, p in lm.named_parameters():
        if "norm" in n or n.endswith("bias") or "embed" in n or "slot_position" in n:
            assert id(p) in no_decay, n
    assert opt.param_groups[1]["weight_decay"] == 0.0 and opt.param_groups[0]["weight_decay"] == 0.1
    assert len(decay) + len(no_decay) == len(list(lm.parameters()))


def test_warmup_then_cosine_to_the_floor():
    lm = _lm("zero", lr=1.0, warmup_steps=10, min_lr_ratio=0.1)
    lm._trainer = _Trainer()
    sched = lm.configure_optimizers()["lr_scheduler"]["scheduler"]
    f = sched.lr_lambdas[0]
    assert math.isclose(f(0), 0.1) and math.isclose(f(9), 1.0)
    assert math.isclose(f(10), 1.0) and math.isclose(f(999), 0.1, abs_tol=1e-4)
    assert math.isclose(f(505), 0.55, abs_tol=1e-3)  # halfway down the cosine


def test_compile_keeps_checkpoint_keys_plain():
    lm = _lm("zero", compile=True)
    lm.configure_model()
    assert lm._compiled is not None
    assert not any("_orig_mod" in k for k in lm.state_dict())
    assert set(lm.state_dict()) == set(_lm("zero").state_dict())
