"""Checkpoints: read safely (``weights_only=True``), and refuse the wrong ones clearly.

holozero checkpoints carry a ``holozero`` entry (door, K, dim, body shape, the resolved model
config and the text window layout), so a checkpoint can rebuild its model alone and a
mismatched one (another door, another K, another body) is named before any weight loads.
"""

from __future__ import annotations

from pathlib import Path

import torch


def read_checkpoint(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {str(path)!r} does not exist")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises several types for truncated / foreign files
        raise ValueError(f"checkpoint {path} is corrupt or not a torch checkpoint ({type(e).__name__}: {e})") from None
    if not isinstance(ckpt, dict) or "holozero" not in ckpt or "state_dict" not in ckpt:
        raise ValueError(f"checkpoint {path} was not written by holozero (no 'holozero' entry)")
    return ckpt


def checkpoint_step(path: str | Path) -> int:
    """The training step a checkpoint was written at."""
    return int(read_checkpoint(path).get("global_step", 0))


def table_seed(door) -> int | None:
    """The seed a seeded control door drew its table with (None for doors without one)."""
    seed = getattr(door, "table_seed", None)
    return None if seed is None else int(seed)


# Recorded in a checkpoint but not compared: the table itself is in the state dict, so a
# model built with another seed takes the checkpoint's table (and its seed) when it loads.
RECORDED_ONLY = ("table_seed",)


def describe_model(net) -> dict:
    door, body = net.door, net.body
    return {
        "door": type(door).__name__,
        "K": door.K,
        "dim": door.dim,
        "feat_dim": door.feat_dim,
        "n_layers": body.n_layers,
        "n_heads": body.n_heads,
        "per_byte": net.per_byte,
        "table_seed": table_seed(door),
    }


def check_compatible(meta: dict, net, path: str | Path = "checkpoint") -> None:
    """Raise ValueError naming every field where the checkpoint and the built model differ."""
    ours = {k: v for k, v in describe_model(net).items() if k not in RECORDED_ONLY}
    diffs = [f"{k}: checkpoint {meta.get(k)!r} vs config {v!r}" for k, v in ours.items() if meta.get(k) != v]
    if diffs:
        raise ValueError(f"{path} does not match the configured model — " + "; ".join(diffs))
