"""User errors print one message and no traceback (unless HOLOZERO_DEBUG=1); bugs keep theirs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import datamodules.components as components
from datamodules.errors import BadItemError
from holozero.commands.errors import UsageError, user_error, user_errors

ROOT = Path(__file__).resolve().parents[2]
TINY = str(ROOT / "configs" / "sweeps" / "tiny_text.yaml")


def _wrapped_like_jsonargparse(inner: Exception) -> ValueError:
    """An error of ours raised inside two library wrappers, as instantiation delivers it."""
    try:
        try:
            try:
                raise inner
            except Exception as e:
                raise ValueError("Does not validate against any of the Union subtypes") from e
        except Exception as e:
            raise ValueError("Does not validate against any of the Union subtypes\nSubtypes: [...]") from e
    except ValueError as outer:
        return outer


def test_the_message_shown_is_ours_not_the_wrapper(capsys):
    try:  # our own error, raised in our code: a data component refusing a control
        components.TextComponent(control="bogus")
    except ValueError as ours:
        outer = _wrapped_like_jsonargparse(ours)
    assert "control must be one of" in str(user_error(outer))
    with pytest.raises(SystemExit) as done, user_errors("holozero fit"):
        raise outer
    err = capsys.readouterr().err
    assert done.value.code == 1
    assert err.startswith("holozero fit: error: control must be one of")
    assert "Traceback" not in err and "Union" not in err


def test_bad_item_error_names_the_file(capsys):
    with pytest.raises(SystemExit), user_errors("holozero fit"):
        raise _wrapped_like_jsonargparse(BadItemError("data/a.wav", "not a sound file"))
    assert "holozero fit: error: data/a.wav: not a sound file" in capsys.readouterr().err


def test_missing_file_is_one_line(capsys):
    with pytest.raises(SystemExit), user_errors("holozero fit"):
        open("/no/such/corpus.txt")
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("holozero fit: error:") and "/no/such/corpus.txt" in err[0] and len(err) == 2


def test_usage_error_points_at_help(capsys):
    with pytest.raises(SystemExit) as done, user_errors("holozero"):
        raise UsageError("holozero sweep", "unrecognized arguments: --ou (did you mean --out?)")
    assert done.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        "holozero sweep: error: unrecognized arguments: --ou (did you mean --out?)",
        "See 'holozero sweep --help'.",
    ]


def test_a_bug_keeps_its_traceback():
    with pytest.raises(ZeroDivisionError), user_errors("holozero fit"):
        1 / 0  # noqa: B018
    with pytest.raises(RuntimeError), user_errors("holozero fit"):  # raised while handling ours: still a bug
        try:
            raise ValueError("ours")
        except ValueError:
            raise RuntimeError("a bug in the handler")  # noqa: B904


def test_debug_shows_the_traceback(monkeypatch):
    monkeypatch.setenv("HOLOZERO_DEBUG", "1")
    with pytest.raises(ValueError, match="control must be one of"), user_errors("holozero fit"):
        components.TextComponent(control="bogus")


def _holozero(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "HOLOZERO_DEBUG"}
    return subprocess.run(
        [sys.executable, "-m", "holozero", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.mark.slow
def test_a_data_error_prints_no_traceback(tmp_path):
    corpus = tmp_path / "corpus.yaml"
    corpus.write_text("data:\n  init_args:\n    text:\n      paths: [/no/such/corpus]\n      control: null\n")
    done = _holozero(
        "fit", "--config", TINY, "--config", str(corpus), "--trainer.default_root_dir", str(tmp_path), cwd=tmp_path
    )
    assert done.returncode == 1, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert errors == [errors[0]] and "/no/such/corpus" in errors[0], done.stderr[-2000:]


@pytest.mark.slow
def test_an_argument_error_prints_two_lines_not_the_usage(tmp_path):
    done = _holozero("fit", "--config", TINY, "--trainer.max_step", "2", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "holozero fit: error: unrecognized arguments: --trainer.max_step 2 (did you mean --trainer.max_steps?)",
        "See 'holozero fit --help'.",
    ]
    assert done.stdout == ""
