"""One way for every command to get a trained ByteModel and its window layout: from a training
checkpoint (``--ckpt_path``) or from an exported folder or Hub repo id (``--model``).

Both build the model from its config with ``ByteModel.from_config`` (no Lightning, no
LightningCLI): a checkpoint's ``holozero.model_config`` is turned into the same config an
exported folder holds, so a checkpoint and its export give the same model.

    net, layout = load_net(ckpt_path="lightning_logs/version_0/checkpoints/last.ckpt")
    net, layout = load_net(model="exported/")   # layout: (context_bytes, stream_bytes) or None
"""

from __future__ import annotations

from pathlib import Path

from holozero.checkpoints import read_checkpoint
from models.byte_model import ByteModel
from models.hub import check_weights, hub_config, model_argument_names


def layout_of(config: dict) -> tuple[int, int] | None:
    layout = config.get("layout")
    return None if layout is None else (layout["context_bytes"], layout["stream_bytes"])


def config_from_checkpoint(ckpt: dict, path: str | Path) -> dict:
    """The ``config.json`` of a checkpoint's network (its door, body and own arguments from the
    resolved ``model:`` section, its training window layout)."""
    meta = ckpt["holozero"]
    model_config = meta.get("model_config")
    if not model_config:
        raise ValueError(f"checkpoint {path} has no holozero.model_config (not written by holozero fit)")
    missing = [k for k in ("door", "body") if k not in model_config]
    if missing:
        raise ValueError(f"checkpoint {path}: holozero.model_config has no {missing}")
    own = {k: model_config[k] for k in model_argument_names(ByteModel) if k in model_config}
    source = f"checkpoint {path} (holozero.model_config)"
    return hub_config(model_config["door"], model_config["body"], own, meta.get("layout"), source)


def net_from_checkpoint(path: str | Path) -> tuple[ByteModel, dict]:
    """(ByteModel in eval mode with the checkpoint's weights, the checkpoint itself)."""
    ckpt = read_checkpoint(path)
    net = ByteModel.from_config(config_from_checkpoint(ckpt, path), source=f"{path} (holozero.model_config)")
    weights = {k.removeprefix("net."): v for k, v in ckpt["state_dict"].items() if k.startswith("net.")}
    for key in net.legacy_slot_keys(weights):  # an old per-byte run's never-trained slot tables
        del weights[key]
    check_weights({k: tuple(v.shape) for k, v in weights.items()}, net, f"checkpoint {path}")
    net.load_state_dict(weights)
    return net.eval(), ckpt


def load_net(ckpt_path: str | Path | None = None, model: str | Path | None = None) -> tuple[ByteModel, tuple | None]:
    """(ByteModel in eval mode, (context_bytes, stream_bytes) or None) from exactly one of a
    checkpoint or an exported folder / Hub repo id."""
    if (ckpt_path is None) == (model is None):
        raise ValueError("give exactly one of ckpt_path (a training checkpoint) and model (an exported folder)")
    if model is not None:
        net = ByteModel.from_pretrained(model)
    else:
        net, _ = net_from_checkpoint(ckpt_path)
    return net, layout_of(net.hub_config)
