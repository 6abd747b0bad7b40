"""Data presets switch the data by stacking one file; a switch that drops settings says which."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from holozero.commands import main
from holozero.commands.switches import top_level_items

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _print_config(capsys, *configs: str, extra: tuple[str, ...] = ()) -> tuple[dict, str]:
    args = [a for c in configs for a in ("--config", str(CONFIGS / c))]
    with pytest.raises(SystemExit):
        main(["fit", *args, *extra, "--print_config"])
    out = capsys.readouterr()
    return yaml.safe_load(out.out), out.err


def test_top_level_items_of_a_dict_repr():
    text = "{'captioned': Namespace(a=1, b=[1, 2]), 'modalities': None, 'odd': 'x, y: {z}'}"
    assert top_level_items(text) == [
        ("captioned", "Namespace(a=1, b=[1, 2])"),
        ("modalities", "None"),
        ("odd", "'x, y: {z}'"),
    ]


@pytest.mark.parametrize(
    "preset,cls,dropped",
    [
        ("text.yaml", "datamodules.TextDataModule", "proportions, captioned, audio, frames"),
        ("captioned.yaml", "datamodules.CaptionedDataModule", "proportions, text, audio, frames"),
    ],
)
def test_switching_away_from_the_mixture_names_what_is_dropped(capsys, preset, cls, dropped):
    config, err = _print_config(capsys, "quickstart.yaml", f"data/{preset}")
    assert config["data"]["class_path"] == cls
    assert config["data"]["init_args"]["K"] == 8 and config["data"]["init_args"]["batch_size"] == 16  # carried over
    assert f"drops its settings: {dropped}" in err
    assert err.count("drops its settings") == 1


def test_the_text_preset_keeps_the_base_text_windows(capsys):
    config, _ = _print_config(capsys, "quickstart.yaml", "data/text.yaml")
    assert config["data"]["init_args"]["text"]["context_bytes"] == 128  # quickstart's, not the default 512


def test_the_mixture_preset_on_a_text_base(capsys):
    config, err = _print_config(capsys, "sweeps/tiny_text.yaml", "data/mixture.yaml")
    assert config["data"]["class_path"] == "datamodules.MixtureDataModule"
    assert config["data"]["init_args"]["modalities"] == ["text", "captioned", "audio", "frames"]
    assert config["data"]["init_args"]["text"]["control"] == "markov"  # the base's text settings carried over
    assert "drops its settings" not in err  # nothing of the text module is lost


def test_a_door_switch_that_drops_its_groups_says_so(capsys):
    _, err = _print_config(capsys, "zero_k8.yaml", "doors/zero_no_d2xor.yaml", "doors/hsl_proj.yaml")
    assert "switching ZeroGroupsDoor to HSLProjDoor drops its settings: groups" in err
    _, err = _print_config(capsys, "zero_k8.yaml", "doors/hsl_proj.yaml")
    assert "drops" not in err  # ZeroDoor's arguments (K, dim, tail) all carry over
