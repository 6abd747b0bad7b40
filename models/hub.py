"""A ByteModel as a Hugging Face–style folder, and back: ``ByteModel.from_pretrained(folder or
Hub id)``, ``save_pretrained(folder)`` and ``push_to_hub(repo_id)``.

The folder holds ``model.safetensors`` (the state dict: weights and persistent buffers, no
code), ``config.json`` (door and body as class path + init args, K, the model's own arguments,
the special ids, the training window layout, the format version) and ``README.md`` (the model
card). huggingface_hub's ``ModelHubMixin`` does the downloading and uploading; this file says
what the folder holds and refuses what must not load:

- a config of another format or format version (the field is named);
- a class outside holozero's doors and bodies: a config names which registered class to build,
  never code to import (``os.system`` is refused before anything is imported);
- weights that do not match the model the config describes (missing, unexpected or
  mis-shaped tensors, each named);
- pickle-bearing files (``.bin``, ``.pt``, ``.ckpt``, ``.pkl``, or a pickle renamed
  ``model.safetensors``): only safetensors are read, so nothing is ever unpickled.

Fixed doors rebuild their tables from the config (non-persistent buffers); whatever the state
dict holds (learned tables, persistent control tables and their seeds) travels in the weights.
"""

from __future__ import annotations

import inspect
import json
import os
import re
from pathlib import Path

import torch
from huggingface_hub import ModelCard, ModelCardData, ModelHubMixin, hf_hub_download
from huggingface_hub.errors import EntryNotFoundError

from holozero.doors import DOORS
from holozero.specials import EOS, NUM_CLASSES, NUM_IDS, PAD, SEP

from .decoder import Decoder

FORMAT = "holozero-byte-model"
FORMAT_VERSION = 1
CONFIG = "config.json"
WEIGHTS = "model.safetensors"
SPECIALS = {"SEP": SEP, "EOS": EOS, "PAD": PAD, "num_ids": NUM_IDS, "num_classes": NUM_CLASSES}
FIELDS = ("format", "format_version", "door", "K", "body", "specials", "layout")  # besides the model's own args
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")
DEFAULT_LICENSE = "mit"
TAGS = ["holozero", "byte-level"]

# What a config may build, by class path: only these classes, never an import by name.
DOOR_CLASSES = {
    path: cls
    for cls in DOORS.values()
    for path in (f"holozero.doors.{cls.__name__}", f"{cls.__module__}.{cls.__name__}", cls.__name__)
}
BODY_CLASSES = {"models.Decoder": Decoder, "models.decoder.Decoder": Decoder, "Decoder": Decoder}


class PretrainedFormatError(ValueError):
    """A folder, config or weights file holozero will not load; the message names the field or file."""


def canonical_path(cls: type) -> str:
    return "models.Decoder" if cls is Decoder else f"holozero.doors.{cls.__name__}"


def model_argument_names(cls: type) -> list[str]:
    """The model's own constructor arguments (``per_byte``, ...): everything but door and body."""
    params = list(inspect.signature(cls.__init__).parameters)[1:]
    return [p for p in params if p not in ("door", "body")]


def resolve(entry, field: str, registry: dict[str, type], source: str) -> tuple[type, dict]:
    """(class, init_args) of a ``{"class_path", "init_args"}`` entry, checked against its registry."""
    if not isinstance(entry, dict) or not isinstance(entry.get("class_path"), str):
        raise PretrainedFormatError(f"{source}: field '{field}' must be an object with a 'class_path' string")
    path, args = entry["class_path"], entry.get("init_args") or {}
    if path not in registry:
        known = sorted({canonical_path(c) for c in registry.values()})
        raise PretrainedFormatError(f"{source}: {field}.class_path {path!r} is not a holozero {field}; known: {known}")
    if not isinstance(args, dict):
        raise PretrainedFormatError(f"{source}: {field}.init_args must be an object, got {type(args).__name__}")
    cls = registry[path]
    accepted = list(inspect.signature(cls.__init__).parameters)[1:]
    unknown = sorted(set(args) - set(accepted))
    if unknown:
        names = ", ".join(f"{field}.init_args.{k}" for k in unknown)
        raise PretrainedFormatError(f"{source}: {names} not accepted by {canonical_path(cls)} (it takes {accepted})")
    return cls, args


def build(entry, field: str, registry: dict[str, type], source: str):
    cls, args = resolve(entry, field, registry, source)
    try:
        return cls(**args)
    except (TypeError, ValueError) as e:
        raise PretrainedFormatError(
            f"{source}: {field} {canonical_path(cls)} cannot be built from its init_args: {e}"
        ) from None


def hub_config(door: dict, body: dict, model_args: dict, layout, source: str = "model config") -> dict:
    """The ``config.json`` of a model: door and body entries as in a LightningCLI config,
    K, the model's own arguments, the special ids and the window layout ``(context, stream)``."""
    door_cls, door_args = resolve(door, "door", DOOR_CLASSES, source)
    body_cls, body_args = resolve(body, "body", BODY_CLASSES, source)
    K = door_args.get("K", inspect.signature(door_cls.__init__).parameters["K"].default)
    if layout is not None:
        context, stream = layout
        layout = {"context_bytes": int(context), "stream_bytes": int(stream)}
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "door": {"class_path": canonical_path(door_cls), "init_args": dict(door_args)},
        "K": K,
        "body": {"class_path": canonical_path(body_cls), "init_args": dict(body_args)},
        **model_args,
        "specials": dict(SPECIALS),
        "layout": layout,
    }
    return json.loads(json.dumps(config))  # plain JSON types (tuples become lists), or a clear TypeError


def check_config(config, source: str, model_args: list[str]) -> None:
    """Raise PretrainedFormatError naming the first field that this holozero cannot load."""
    if not isinstance(config, dict):
        raise PretrainedFormatError(f"{source}: expected a JSON object, got {type(config).__name__}")
    if config.get("format") != FORMAT:
        raise PretrainedFormatError(f"{source}: field 'format' is {config.get('format')!r}, not {FORMAT!r}")
    if config.get("format_version") != FORMAT_VERSION:
        raise PretrainedFormatError(
            f"{source}: field 'format_version' is {config.get('format_version')!r}; this holozero reads version "
            f"{FORMAT_VERSION} only (export the checkpoint again with `holozero export`)"
        )
    missing = [k for k in FIELDS if k not in config]
    unknown = sorted(set(config) - set(FIELDS) - set(model_args))
    if missing or unknown:
        raise PretrainedFormatError(f"{source}: missing fields {missing}, unknown fields {unknown}")
    specials = config["specials"] if isinstance(config["specials"], dict) else {}
    wrong = [
        f"specials.{k} is {specials.get(k)!r}, holozero's is {v}" for k, v in SPECIALS.items() if specials.get(k) != v
    ]
    if wrong:
        raise PretrainedFormatError(f"{source}: " + "; ".join(wrong))
    door_K = (config["door"].get("init_args") or {}).get("K") if isinstance(config["door"], dict) else None
    if door_K is not None and door_K != config["K"]:
        raise PretrainedFormatError(f"{source}: field 'K' is {config['K']!r} but door.init_args.K is {door_K!r}")
    layout = config["layout"]
    if layout is not None and (not isinstance(layout, dict) or set(layout) != {"context_bytes", "stream_bytes"}):
        raise PretrainedFormatError(f"{source}: field 'layout' must be null or {{context_bytes, stream_bytes}}")


def check_weights(shapes: dict[str, tuple], net: torch.nn.Module, source: str) -> None:
    """Raise PretrainedFormatError naming every tensor where the weights and the model differ."""
    expected = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    missing = sorted(set(expected) - set(shapes))
    unexpected = sorted(set(shapes) - set(expected))
    shaped = [f"{k} {list(shapes[k])} vs {list(v)}" for k, v in expected.items() if k in shapes and shapes[k] != v]

    def some(items: list[str]) -> str:
        return ", ".join(items[:6]) + (f" (+{len(items) - 6} more)" if len(items) > 6 else "")

    found = {"missing": missing, "unexpected": unexpected, "shape (weights vs config)": shaped}
    problems = [f"{name}: {some(items)}" for name, items in found.items() if items]
    if problems:
        raise PretrainedFormatError(
            f"{source} does not match the model its config describes ({type(net.door).__name__}, K={net.door.K}, "
            f"{net.body.n_layers} layers) — " + "; ".join(problems)
        )


def looks_like_pickle(path: Path) -> bool:
    """torch.save writes a zip (``PK``) of pickles; plain pickles start with the protocol byte
    0x80. A safetensors file (8-byte header length, then its JSON header) can start with 0x80
    too, so its ``{`` at byte 8 clears it."""
    with open(path, "rb") as f:
        head = f.read(9)
    if head[8:9] == b"{":
        return False
    return head.startswith(b"PK\x03\x04") or head[:1] == b"\x80"


def refuse_pickle(path: Path, why: str) -> PretrainedFormatError:
    return PretrainedFormatError(
        f"refusing {path}: {why} — pickle files can run code when loaded, so holozero never unpickles a shared "
        f"model; it reads only {WEIGHTS} + {CONFIG}. A training checkpoint of your own loads with --ckpt_path, "
        "and `holozero export` turns it into such a folder"
    )


def check_local(name_or_path: str) -> None:
    """Refuse, before any download or read, a local path that is not an exported folder."""
    path = Path(name_or_path).expanduser()
    hub_id = re.fullmatch(r"[\w.-]+(/[\w.-]+)?", name_or_path) and not name_or_path.startswith((".", "~"))
    if not path.exists():
        if not hub_id:
            raise FileNotFoundError(f"no model folder at {name_or_path!r}")
        return  # a Hub repo id: the mixin downloads it
    if path.is_file():
        if path.suffix in PICKLE_SUFFIXES or looks_like_pickle(path):
            raise refuse_pickle(path, "a pickle-bearing file, not an exported folder")
        raise PretrainedFormatError(f"{path} is a file; pass the folder holding {CONFIG} and {WEIGHTS}")
    if not (path / WEIGHTS).is_file():
        pickles = sorted(p.name for p in path.iterdir() if p.suffix in PICKLE_SUFFIXES)
        if pickles:
            raise refuse_pickle(path / pickles[0], f"{path} holds no {WEIGHTS}, only pickle-bearing {pickles}")
        raise PretrainedFormatError(f"{path} holds no {WEIGHTS}")
    if not (path / CONFIG).is_file():
        raise PretrainedFormatError(f"{path} holds no {CONFIG}")
    try:
        json.loads((path / CONFIG).read_text())
    except (ValueError, UnicodeDecodeError) as e:
        raise PretrainedFormatError(f"{path / CONFIG} is not valid JSON ({e})") from None


def read_safetensors(path: Path) -> tuple[dict[str, tuple], dict[str, torch.Tensor]]:
    """(shapes, tensors) of a safetensors file; a pickle, or any other file, is refused unread."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    if looks_like_pickle(path):
        raise refuse_pickle(path, "a pickle (torch.save) file named like safetensors")
    try:
        with safe_open(str(path), framework="pt") as f:
            shapes = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}  # noqa: SIM118 (not a dict)
        return shapes, load_file(str(path))
    except Exception as e:  # the Rust reader raises its own error type for a bad header
        raise PretrainedFormatError(f"{path} is not a readable safetensors file ({type(e).__name__}: {e})") from None


class HubMixin(ModelHubMixin, library_name="holozero", tags=list(TAGS)):  # (the mixin appends to tags)
    """``from_pretrained`` / ``save_pretrained`` / ``push_to_hub`` for ByteModel (see the module)."""

    hub_config: dict | None = None  # the config.json this model was built from (None: built in code)

    @classmethod
    def from_config(cls, config: dict, source: str = CONFIG):
        """The model a ``config.json`` describes, freshly initialised (no weights loaded)."""
        check_config(config, source, model_argument_names(cls))
        door = build(config["door"], "door", DOOR_CLASSES, source)
        body = build(config["body"], "body", BODY_CLASSES, source)
        args = {k: config[k] for k in model_argument_names(cls) if k in config}
        try:
            net = cls(door, body, **args)
        except (TypeError, ValueError) as e:
            raise PretrainedFormatError(f"{source}: the door and body do not make a model: {e}") from None
        net.hub_config = json.loads(json.dumps(config))
        return net

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | Path, **kwargs):
        """A model from an exported folder or a Hub repo id, in eval mode. Keyword arguments are
        huggingface_hub's (``revision``, ``cache_dir``, ``token``, ``local_files_only``, ...) and
        ``map_location``; the architecture is the config's and cannot be overridden."""
        check_local(str(pretrained_model_name_or_path))
        return super().from_pretrained(pretrained_model_name_or_path, **kwargs)

    @classmethod
    def _from_pretrained(
        cls,
        *,
        model_id: str,
        revision: str | None,
        cache_dir: str | Path | None,
        force_download: bool,
        local_files_only: bool,
        token: str | bool | None,
        config: dict | None = None,
        map_location: str | torch.device = "cpu",
        **model_kwargs,
    ):
        if config is None:
            raise PretrainedFormatError(f"{model_id}: no {CONFIG} (not a folder written by holozero export)")
        overridden = sorted(k for k, v in model_kwargs.items() if k not in config or config[k] != v)
        if overridden:
            raise TypeError(f"from_pretrained builds the model {CONFIG} describes; cannot override {overridden}")
        if os.path.isdir(model_id):
            weights = Path(model_id) / WEIGHTS
        else:
            try:
                weights = Path(
                    hf_hub_download(
                        repo_id=model_id,
                        filename=WEIGHTS,
                        revision=revision,
                        cache_dir=cache_dir,
                        force_download=force_download,
                        token=token,
                        local_files_only=local_files_only,
                    )
                )
            except EntryNotFoundError:
                raise PretrainedFormatError(f"{model_id} has no {WEIGHTS}; pickle weights are never loaded") from None
        net = cls.from_config(config, source=str(Path(model_id) / CONFIG))
        shapes, tensors = read_safetensors(weights)
        for key in net.legacy_slot_keys(shapes):  # an old per-byte export's never-trained slot tables
            del shapes[key], tensors[key]
        check_weights(shapes, net, str(weights))
        net.load_state_dict(tensors)
        return net.to(map_location).eval()

    def _save_pretrained(self, save_directory: Path) -> None:
        from safetensors.torch import save

        config = self.hub_config
        if config is None:
            raise PretrainedFormatError(
                "this ByteModel has no config to save: build it with ByteModel.from_config(hub_config(...)), load it "
                "with ByteModel.from_pretrained, or export a checkpoint with `holozero export`"
            )
        check_config(config, "the model's hub_config", model_argument_names(type(self)))
        if DOOR_CLASSES.get(config["door"]["class_path"]) is not type(self.door) or config["K"] != self.door.K:
            raise PretrainedFormatError(
                f"hub_config describes {config['door']['class_path']} K={config['K']}, "
                f"not this model's {type(self.door).__name__} K={self.door.K}"
            )
        tensors = {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}
        # as bytes, so the file takes the umask like the rest of the folder (save_file writes it 0600)
        (save_directory / WEIGHTS).write_bytes(
            save(tensors, metadata={"format": FORMAT, "version": str(FORMAT_VERSION)})
        )
        (save_directory / CONFIG).write_text(json.dumps(config, indent=2) + "\n")

    def generate_model_card(self, sections: list[str] | None = None, license: str = DEFAULT_LICENSE) -> ModelCard:
        """The card: the model from its config, how to load it, then ``sections`` (Markdown,
        e.g. the training run's results from ``holozero export``)."""
        config = self.hub_config or {}
        door, body = self.door, self.body
        door_args = ", ".join(f"{k}={v}" for k, v in (config.get("door", {}).get("init_args") or {}).items())
        body_args = ", ".join(f"{k}={v}" for k, v in (config.get("body", {}).get("init_args") or {}).items())
        own = ", ".join(f"{k}={getattr(self, k)!r}" for k in model_argument_names(type(self)) if hasattr(self, k))
        layout = config.get("layout")
        window = (
            f"{layout['context_bytes']} context bytes ({layout['context_bytes'] // door.K} slots of K) + "
            f"{layout['stream_bytes']} stream bytes"
            if layout
            else "not recorded"
        )
        data = ModelCardData(library_name="holozero", license=license, tags=[*TAGS, "model_hub_mixin"])
        text = f"""---
{data.to_yaml()}
---

# holozero byte model: {type(door).__name__}, K={door.K}

A byte-level language model from holozero: the input door `{type(door).__name__}` turns bytes
into vectors (prefix bytes packed K={door.K} to a slot), a causal decoder predicts the next byte.

| | |
|---|---|
| door | `{config.get("door", {}).get("class_path", type(door).__name__)}` ({door_args}) |
| learned input parameters | {door.learned_parameters:,} |
| body | `{config.get("body", {}).get("class_path", type(body).__name__)}` ({body_args}) |
| body parameters | {sum(p.numel() for p in body.parameters()):,} |
| model arguments | {own} |
| training window | {window} |
| special ids | SEP {SEP}, EOS {EOS}, PAD {PAD} (input only); {NUM_CLASSES} output classes |
| format | `{FORMAT}` version {FORMAT_VERSION}: `{CONFIG}` + `{WEIGHTS}` (no pickle) |

## Use

```python
from models import ByteModel  # pip install holozero
net = ByteModel.from_pretrained("THIS_FOLDER_OR_REPO_ID")  # eval mode; net.hub_config["layout"]
logits, _ = net(ids, stream_len)  # ids [B, C+S] (bytes 0..255, SEP/EOS/PAD 256..258)
```

```bash
holozero generate --model THIS_FOLDER_OR_REPO_ID --prompt "The " --max_bytes 200
```
"""
        return ModelCard("\n\n".join([text.rstrip(), *(sections or [])]) + "\n")
