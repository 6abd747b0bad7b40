"""No abbreviated flags anywhere, and a wrong flag, value or config key named in one line
with the closest real option."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from holozero.commands import main
from holozero.commands.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]
TINY = str(ROOT / "configs" / "sweeps" / "tiny_text.yaml")


def _usage_error(args: list[str]) -> UsageError:
    with pytest.raises(UsageError) as caught:
        main(args)
    return caught.value


def test_a_prefix_of_a_trainer_flag_is_an_error_naming_the_flag():
    err = _usage_error(["fit", "--config", TINY, "--trainer.max_step", "2", "--print_config"])
    assert err.prog == "holozero fit"
    assert "--trainer.max_step " in str(err) + " " and "did you mean --trainer.max_steps?" in str(err)


def test_the_full_flag_still_parses(capsys):
    with pytest.raises(SystemExit) as done:  # --print_config exits 0 after printing
        main(["fit", "--config", TINY, "--trainer.max_steps", "2", "--print_config"])
    assert done.value.code in (0, None)
    assert "max_steps: 2" in capsys.readouterr().out


@pytest.mark.parametrize(
    "flag,suggested",
    [
        ("--data.init_args.text.context_byte", "--data.init_args.text.context_bytes"),  # a prefix, nested
        ("--data.init_args.batch_sizes", "--data.init_args.batch_size"),
        ("--model.door.init_args.tails", "--model.door.init_args.tail"),
    ],
)
def test_a_wrong_nested_flag_is_one_line_with_the_closest_flag(flag, suggested):
    err = _usage_error(["fit", "--config", TINY, flag, "16", "--print_config"])
    assert f"did you mean {suggested}?" in str(err)
    assert "\n" not in str(err) and "NoneType" not in str(err)


def test_a_wrong_key_in_a_config_file_names_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("trainer:\n  max_stepz: 3\n")
    err = _usage_error(["fit", "--config", TINY, "--config", str(bad), "--print_config"])
    assert str(bad) in str(err) and "did you mean --trainer.max_steps?" in str(err)


def test_broken_yaml_names_the_file_and_line(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("trainer:\n  max_steps: [1\n")
    err = _usage_error(["fit", "--config", str(bad), "--print_config"])
    assert f"config {bad}, line 3" in str(err)


def test_a_bad_value_names_the_key():
    err = _usage_error(["fit", "--config", TINY, "--trainer.max_steps", "abc", "--print_config"])
    assert str(err).startswith("trainer.max_steps:") and "abc" in str(err)


def test_unknown_command_suggests_the_closest():
    err = _usage_error(["fitt"])
    assert err.prog == "holozero" and "did you mean fit?" in str(err)


@pytest.mark.parametrize(
    "args,suggested",
    [
        (["sweep", "spec.yaml", "--out", "x", "--job", "2"], "--jobs"),  # a prefix of --jobs
        (["report", "dir", "--outt", "x"], None),
        (["generate", "--ckpt_path", "x.ckpt", "--prompt", "a", "--max_byte", "3"], "--max_bytes"),
    ],
)
def test_our_own_commands_take_no_abbreviations(args, suggested):
    err = _usage_error(args)
    assert err.prog == f"holozero {args[0]}" and "unrecognized arguments" in str(err)
    if suggested:
        assert f"did you mean {suggested}?" in str(err)


def test_every_command_parser_refuses_abbreviations():
    """Each argparse parser in holozero/commands is the shared CommandParser, or says allow_abbrev=False."""
    offenders = []
    for path in sorted((ROOT / "holozero" / "commands").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            fn = node.func
            plain = isinstance(fn, ast.Attribute) and fn.attr == "ArgumentParser"
            plain = plain and getattr(fn.value, "id", "") == "argparse"
            refuses = any(k.arg == "allow_abbrev" and getattr(k.value, "value", True) is False for k in node.keywords)
            if plain and not refuses:
                offenders.append(f"{path.name}:{node.lineno}")
    assert not offenders, f"argparse parsers that accept abbreviated flags: {offenders} (use args.CommandParser)"
