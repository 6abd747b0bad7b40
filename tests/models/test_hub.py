"""ByteModel.from_pretrained / save_pretrained / push_to_hub (models/hub.py): every door comes
back bit for bit, and what must not load is refused by name — without anything unpickled,
imported by name, or fetched from the network."""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from holozero.doors import PRESETS
from models import ByteModel, Decoder
from models.hub import FORMAT_VERSION, WEIGHTS, PretrainedFormatError, hub_config


def config_for(door: str = "zero", per_byte: bool = False, layers: int = 2) -> dict:
    K, dim = (1, 260) if door == "onehot" else (2, 64)  # one-hot needs dim ≥ 259·K
    door_entry = PRESETS[door].config()
    door_entry["init_args"] = door_entry.get("init_args", {}) | {"K": K, "dim": dim}
    body = {"class_path": "models.Decoder", "init_args": {"dim": dim, "n_layers": layers, "n_heads": 2}}
    return hub_config(door_entry, body, {"per_byte": per_byte}, (16, 8))


def trained_like(config: dict) -> ByteModel:
    """A model whose weights are not what a fresh build from its config would draw."""
    net = ByteModel.from_config(config)
    g = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn(p.shape, generator=g))
    return net.eval()


def window(net: ByteModel) -> torch.Tensor:
    ids = torch.randint(0, 256, (2, 24), generator=torch.Generator().manual_seed(1))
    ids[0, 5], ids[1, 11] = 257, 256  # EOS and SEP inside the window
    return ids


@pytest.fixture
def saved(tmp_path) -> Path:
    trained_like(config_for()).save_pretrained(tmp_path / "m")
    return tmp_path / "m"


def edit_config(folder: Path, edit) -> None:
    config = json.loads((folder / "config.json").read_text())
    edit(config)
    (folder / "config.json").write_text(json.dumps(config))


class Unpickled:
    """Writes a marker file when unpickled: its existence means something was unpickled."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "unpickled"))


@pytest.mark.parametrize("door", sorted(PRESETS))
def test_every_door_comes_back_bit_for_bit(door, tmp_path):
    net = trained_like(config_for(door))
    net.save_pretrained(tmp_path)
    loaded = ByteModel.from_pretrained(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "config.json", "model.safetensors"]
    assert not loaded.training and type(loaded.door) is type(net.door)
    mine, theirs = net.state_dict(), loaded.state_dict()
    assert mine.keys() == theirs.keys() and all(torch.equal(mine[k], theirs[k]) for k in mine)
    ids = window(net)
    assert torch.equal(net(ids, 8)[0], loaded(ids, 8)[0])
    fresh = ByteModel.from_config(config_for(door)).eval()  # the weights, not the config, made them equal
    assert not torch.equal(fresh(ids, 8)[0], loaded(ids, 8)[0])


def test_per_byte_model_and_its_config(tmp_path):
    net = trained_like(config_for("hsl_proj", per_byte=True))
    net.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["format_version"] == FORMAT_VERSION and config["K"] == 2 and config["per_byte"] is True
    assert config["door"] == {"class_path": "holozero.doors.HSLProjDoor", "init_args": {"K": 2, "dim": 64}}
    assert config["specials"] == {"SEP": 256, "EOS": 257, "PAD": 258, "num_ids": 259, "num_classes": 258}
    assert config["layout"] == {"context_bytes": 16, "stream_bytes": 8}
    loaded = ByteModel.from_pretrained(str(tmp_path))
    assert loaded.per_byte and loaded.hub_config == config
    ids = window(net)
    assert torch.equal(net(ids, 8)[0], loaded(ids, 8)[0])
    card = (tmp_path / "README.md").read_text()
    assert "license: mit" in card and "HSLProjDoor" in card and f"{net.door.learned_parameters:,}" in card


def test_a_model_built_in_code_says_how_to_get_a_config(tmp_path):
    net = ByteModel(PRESETS["zero"](K=2, dim=64), Decoder(dim=64, n_layers=1, n_heads=2))
    with pytest.raises(PretrainedFormatError, match="no config to save"):
        net.save_pretrained(tmp_path)


@pytest.mark.parametrize(
    "edit,field",
    [
        (lambda c: c.update(format_version=FORMAT_VERSION + 1), "format_version"),
        (lambda c: c.update(format="someone-else"), "'format'"),
        (lambda c: c["specials"].update(EOS=3), "specials.EOS"),
        (lambda c: c.update(K=4), "'K'"),
        (lambda c: c.pop("layout"), "layout"),
        (lambda c: c.update(surprise=1), "surprise"),
        (lambda c: c["door"]["init_args"].update(bogus=1), "door.init_args.bogus"),
        (lambda c: c["body"].update(class_path="torch.nn.Transformer"), "body.class_path"),
    ],
)
def test_a_config_this_version_cannot_read_is_refused_by_field(saved, edit, field):
    edit_config(saved, edit)
    with pytest.raises(PretrainedFormatError, match="config.json") as err:
        ByteModel.from_pretrained(saved)
    assert field in str(err.value)


def test_a_class_path_is_never_imported(saved, tmp_path, monkeypatch):
    (tmp_path / "planted.py").write_text(f"open({str(tmp_path / 'imported')!r}, 'w').close()\nclass Door: ...\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    edit_config(saved, lambda c: c["door"].update(class_path="planted.Door"))
    with pytest.raises(PretrainedFormatError, match="door.class_path 'planted.Door' is not a holozero door"):
        ByteModel.from_pretrained(saved)
    assert not (tmp_path / "imported").exists() and "planted" not in sys.modules


HSL_PROJ = {"class_path": "holozero.doors.HSLProjDoor", "init_args": {"K": 2, "dim": 64}}


@pytest.mark.parametrize(
    "edit,expected",
    [
        (lambda c: c["body"]["init_args"].update(n_layers=3), r"missing: body\.blocks\.2\."),
        (lambda c: c["body"]["init_args"].update(n_layers=1), r"unexpected: body\.blocks\.1\."),
        (lambda c: c["body"]["init_args"].update(mlp_hidden=32), r"mlp\.down\.weight \[64, 256\] vs \[64, 32\]"),
        (lambda c: c.update(door=HSL_PROJ), "missing: door.slot_proj"),
    ],
)
def test_a_config_that_does_not_match_the_weights_names_the_tensors(saved, edit, expected):
    edit_config(saved, edit)
    with pytest.raises(PretrainedFormatError, match=expected) as err:
        ByteModel.from_pretrained(saved)
    assert str(saved / WEIGHTS) in str(err.value)


def test_an_extra_tensor_in_the_weights_is_named(saved):
    tensors = load_file(saved / WEIGHTS) | {"door.smuggled": torch.zeros(3)}
    save_file(tensors, saved / WEIGHTS)
    with pytest.raises(PretrainedFormatError, match="unexpected: door.smuggled"):
        ByteModel.from_pretrained(saved)


def test_pickle_bearing_files_are_refused_unread(saved, tmp_path):
    marker = tmp_path / "unpickled"
    evil = pickle.dumps(Unpickled(marker))
    pickle.loads(evil)  # the planted pickle does what it says when unpickled ...
    assert marker.exists()
    marker.unlink()

    (saved / WEIGHTS).write_bytes(evil)  # a pickle renamed model.safetensors
    with pytest.raises(PretrainedFormatError, match=f"refusing {saved / WEIGHTS}: a pickle"):
        ByteModel.from_pretrained(saved)
    torch.save({"w": Unpickled(marker)}, saved / WEIGHTS)  # torch.save's zip of pickles, same name
    with pytest.raises(PretrainedFormatError, match="a pickle"):
        ByteModel.from_pretrained(saved)

    (saved / WEIGHTS).unlink()
    (saved / "pytorch_model.bin").write_bytes(evil)  # the usual fallback of other loaders
    with pytest.raises(PretrainedFormatError, match=r"pytorch_model\.bin.*nothing|never unpickles") as err:
        ByteModel.from_pretrained(saved)
    assert "pytorch_model.bin" in str(err.value)
    for name in ("model.pt", "model.ckpt", "weights.pkl"):  # a file instead of a folder
        (tmp_path / name).write_bytes(evil)
        with pytest.raises(PretrainedFormatError, match=f"refusing {tmp_path / name}: a pickle-bearing file"):
            ByteModel.from_pretrained(tmp_path / name)
    assert not marker.exists()  # ... and holozero never did


def test_a_folder_without_its_files_is_named(saved, tmp_path):
    with pytest.raises(FileNotFoundError, match="no model folder"):
        ByteModel.from_pretrained(tmp_path / "nowhere")
    (saved / "config.json").unlink()
    with pytest.raises(PretrainedFormatError, match="holds no config.json"):
        ByteModel.from_pretrained(saved)
    (saved / "config.json").write_text("{not json")
    with pytest.raises(PretrainedFormatError, match="config.json is not valid JSON"):
        ByteModel.from_pretrained(saved)


def test_the_architecture_cannot_be_overridden_at_load(saved):
    with pytest.raises(TypeError, match=r"cannot override \['per_byte'\]"):
        ByteModel.from_pretrained(saved, per_byte=True)


def test_a_hub_id_downloads_only_the_config_and_the_safetensors(saved, monkeypatch):
    import huggingface_hub.hub_mixin

    import models.hub

    asked = []

    def fake_download(repo_id, filename, **kwargs):  # the Hub, served from the saved folder
        asked.append((repo_id, filename))
        return str(saved / filename)

    monkeypatch.setattr(huggingface_hub.hub_mixin, "hf_hub_download", fake_download)
    monkeypatch.setattr(models.hub, "hf_hub_download", fake_download)
    loaded = ByteModel.from_pretrained("someone/tiny-zero")
    assert asked == [("someone/tiny-zero", "config.json"), ("someone/tiny-zero", WEIGHTS)]
    expected = ByteModel.from_pretrained(saved).state_dict()
    assert all(torch.equal(v, expected[k]) for k, v in loaded.state_dict().items())


def test_push_to_hub_uploads_the_folder_it_saves(saved, monkeypatch):
    from huggingface_hub import HfApi

    pushed = {}

    class Repo:
        repo_id = "someone/tiny-zero"

    def upload_folder(self, *, repo_id, folder_path, **kwargs):
        pushed.update({p.name: p.read_bytes() for p in Path(folder_path).iterdir()}, repo=repo_id)
        return "https://example.invalid/commit"

    monkeypatch.setattr(HfApi, "create_repo", lambda self, **kwargs: Repo())
    monkeypatch.setattr(HfApi, "upload_folder", upload_folder)
    ByteModel.from_pretrained(saved).push_to_hub("someone/tiny-zero")
    assert pushed.pop("repo") == "someone/tiny-zero"
    assert sorted(pushed) == ["README.md", "config.json", WEIGHTS]
    # the same tensors and metadata (the header's key order is not fixed by safetensors, so not the bytes)
    from safetensors.torch import load

    ours, theirs = load(pushed[WEIGHTS]), load((saved / WEIGHTS).read_bytes())
    assert ours.keys() == theirs.keys() and all(torch.equal(ours[k], theirs[k]) for k in ours)
    assert pushed["config.json"] == (saved / "config.json").read_bytes()
