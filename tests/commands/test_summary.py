"""``holozero summary``, ``holozero events`` and ``holozero doors`` read back what a run wrote (or
what the registry holds) and print it; ``holozero --help`` and ``generate --help`` say what
each command and option is."""

from __future__ import annotations

import json

import pytest
from helpers import run_cli
from torch.utils.tensorboard import SummaryWriter

from holozero.commands import usage
from holozero.doors import PRESETS


@pytest.fixture
def fake_run(tmp_path):
    """A run folder with chosen figures: val bpb 3.0, 2.5, 2.7 at steps 10, 20, 30 (best 2.5 at
    20, last 2.7), test 2.6, an audio binding gap 0.4 in [0.3, 0.5] over 40 items, and an
    evaluate report of step 30."""
    run = tmp_path / "lightning_logs" / "version_0"
    writer = SummaryWriter(str(run))
    for step, value in ((10, 3.0), (20, 2.5), (30, 2.7)):
        writer.add_scalar("val/bpb", value, step)
        writer.add_scalar("val/text_bpb", value + 1, step)
    writer.add_scalar("test/bpb", 2.625, 30)
    for tag, value in (("", 0.4375), ("/low", 0.3125), ("/high", 0.5), ("/items", 40)):
        writer.add_scalar(f"val/binding_gap/audio{tag}", value, 30)
    writer.add_scalar("model/learned_input_params", 0, 0)
    writer.close()
    report = {
        "split": "test",
        "step": 30,
        "segments": {
            "text": {"bpb": 2.5625, "bytes_scored": 4000, "bytes_in_split": 4000, "context": 16, "stride": 16}
        },
        "floors": {"text": {"zlib": 4.25, "bz2": 4.0, "xz": 4.875, "ppmd": 3.75}},
    }
    (run / "evaluate-test-step30.json").write_text(json.dumps(report))
    return run


def test_summary_reads_back_val_test_binding_and_evaluate(fake_run, capsys):
    run_cli(["summary", str(fake_run)])
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert rows["bpb"].split() == ["bpb", "2.5000", "(", "20)", "2.7000", "(", "30)", "2.6250", "(", "30)"]
    assert rows["text_bpb"].split()[:4] == ["text_bpb", "3.5000", "(", "20)"]
    assert rows["val/binding_gap/audio"].split() == [
        "val/binding_gap/audio",
        "0.4375",
        "[0.3125,",
        "0.5000]",
        "40",
        "30",
    ]
    assert "| text | 2.5625 | 4,000 | 4,000 | 16 | 16 | 4.2500 | 4.0000 | 4.8750 | 3.7500 |" in out
    assert "whole test split of step 30 (evaluate-test-step30.json)" in out


def test_summary_and_events_name_what_is_missing(fake_run, tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        run_cli(["summary", str(tmp_path / "nowhere")])
    with pytest.raises(FileNotFoundError, match="no TensorBoard event file"):
        run_cli(["summary", str(tmp_path)])
    run_cli(["events", str(fake_run), "val/bpb"])
    assert capsys.readouterr().out.splitlines() == [
        "val/bpb\tstep 10\t3",
        "val/bpb\tstep 20\t2.5",
        "val/bpb\tstep 30\t2.7",
    ]
    with pytest.raises(ValueError, match=r"'val/bp' is not logged .*\(did you mean val/bpb\?\)"):
        run_cli(["events", str(fake_run), "val/bp"])


def test_doors_lists_every_arm_with_its_learned_parameters(capsys):
    run_cli(["doors", "--K", "8", "--dim", "512"])
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines()[2:]}
    assert sorted(rows) == sorted(PRESETS)
    assert rows["zero"].split()[:3] == ["zero", "ZeroDoor", "0"]
    assert f"{259 * 512 + 259 * (512 // 8):,}" in rows["byte_embed"]  # a 259×dim table + a 259×(dim/K) one
    assert f"{256 * 18:,}" in rows["learned_value"]  # a 256×18 value table
    assert "does not fit (the largest valid K is 1)" in rows["onehot"]  # 8·259 channels > 512
    assert "dxor" not in rows["zero_no_dxor"].split("groups=")[1]
    run_cli(["doors", "--K", "1", "--dim", "300"])
    assert "does not fit" not in capsys.readouterr().out  # one-hot fits at K=1 in 300 ≥ 259


def test_help_lists_every_command_with_what_it_does():
    text = usage()
    for command in ("summary", "events", "doors", "generate", "evaluate", "export"):
        assert f"\n  {command} " in text
    generate = next(line for line in text.splitlines() if line.startswith("  generate "))
    assert "continue a prompt byte by byte" in generate and "command" not in generate


def test_generate_help_states_every_default(capsys):
    with pytest.raises(SystemExit):
        run_cli(["generate", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    options = out.split("options:")[1]
    for flag, default in (("--max_bytes", "256"), ("--temperature", "1.0"), ("--top_k", "0"), ("--top_p", "1.0")):
        assert f"(default: {default})" in options.split(f"{flag} ", 1)[1].split(" --", 1)[0], flag
    assert "continue a prompt byte by byte" in out.split("options:")[0]
