"""scripts/trained_tables.py on a sweep folder written here (no training): two arms × two
seeds × two budgets with known figures, the shuffled-caption null, a K arm and runs not done.
Every expected figure is worked out by hand below (n = 2 seeds: the mean, the 95% half-interval
t(0.975, 1) · |a − b| / 2 with t = tan(0.475π), and a paired t-test's p with one degree of
freedom, 1 − 2/π · atan(|t|))."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest
import yaml
from torch.utils.tensorboard import SummaryWriter

from holozero.commands.sweep import run_id
from holozero.floors import CONVENTION

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "trained_tables.py"
B, B4 = {"flops": 1.0e9}, {"flops": 4.0e9}
CONTROL = "/anywhere/configs/controls/shuffle_captions.yaml"  # a spec holds absolute config paths
T1 = math.tan(0.475 * math.pi)  # t(0.975) with one degree of freedom: 12.706
PER_BATCH = {"zero": 1.0e8, "byte_embed": 1.25e8}  # FLOPs per step: val every 10 and every 8 steps
GRIDS = [
    {"door": ["zero", "byte_embed"], "K": [8], "budget": [B4, B], "configs": [[]], "seed": [0, 1]},
    {"door": ["zero"], "K": [8], "budget": [B4], "configs": [[CONTROL]], "seed": [0, 1]},
    {"door": ["zero"], "K": [4], "budget": [B4], "configs": [[]], "seed": [0, 1]},
    {"door": ["zero", "byte_embed"], "K": [8], "budget": [B4], "configs": [[]], "seed": [2]},  # not done
]
# whole-test-split text bpb per (door, K, budget, control) and seed; the other segments follow it
TEXT = {
    ("zero", 8, B4["flops"], False): (3.0, 3.2),
    ("byte_embed", 8, B4["flops"], False): (2.9, 3.0),
    ("zero", 8, B["flops"], False): (4.0, 4.4),
    ("byte_embed", 8, B["flops"], False): (3.5, 3.7),
    ("zero", 8, B4["flops"], True): (3.1, 3.3),
    ("zero", 4, B4["flops"], False): (3.5, 3.6),
}
AUDIO_GAP = {("zero", False): (0.30, 0.40), ("zero", True): (0.01, 0.03), ("byte_embed", False): (0.10, 0.20)}


def p_one_df(diffs) -> float:
    mean, half_spread = (diffs[0] + diffs[1]) / 2, abs(diffs[0] - diffs[1]) / 2  # the sd of the mean, n = 2
    return 1 - 2 / math.pi * math.atan(abs(mean) / half_spread)


def _write_run(out: Path, run: dict) -> None:
    door, K, flops, seed = run["door"], run["K"], run["budget"]["flops"], run["seed"]
    control = bool(run["configs"])
    root = out / "runs" / run_id(run)
    events = root / "lightning_logs" / "version_0"
    events.mkdir(parents=True)
    (root / "status.json").write_text(json.dumps({"status": "done"}))
    if seed == 2:  # the byte_embed run of seed 2 was stopped short; the zero door's never started
        fit = {"state": "stopped", "step": 20, "target_step": 32}
        (events / "fit_status.json").write_text(json.dumps(fit))
        return
    steps = int(flops / PER_BATCH[door] + 0.5)
    every = int(1.0e9 / PER_BATCH[door] + 0.5)
    (events / "fit_status.json").write_text(json.dumps({"state": "finished", "step": steps, "target_step": steps}))
    writer = SummaryWriter(str(events))
    learned = 0 if door == "zero" else 65_536
    writer.add_scalar("model/learned_input_params", learned, 0)
    writer.add_scalar("model/body_params", 1_000_000, 0)
    writer.add_scalar("model/total_params", learned + 1_000_000, 0)
    writer.add_scalar("model/flops_per_batch", PER_BATCH[door], 0)
    if door == "zero":  # spent FLOPs, 1% above the expected, logged at each step's 0-based index
        for s in range(steps):
            writer.add_scalar("budget/flops", (s + 1) * 1.01e8, s)
    rates = (10.0, 2000.0 + 200 * seed, 2100.0 + 200 * seed) if K == 4 else (10.0, 1000.0, 1100.0)
    for i, rate in enumerate(rates):  # the first window times the warm-up: the median leaves it
        writer.add_scalar("train/device/items_per_sec", rate, 5 * i + 4)
    for i, step in enumerate(range(every, steps + 1, every), start=1):
        base = 5.0 - 0.5 * i if door == "zero" else 4.8 - 0.45 * i
        writer.add_scalar("val/text_bpb", base + 0.1 * seed - (0.2 if flops == B["flops"] else 0), step)
        writer.add_scalar("val/binding_gap/audio", 0.05 * i + 0.01 * seed, step)
    text = TEXT[(door, K, flops, control)][seed]
    gap = AUDIO_GAP.get((door, control), (0.2, 0.2))[seed]
    writer.add_scalar("test/binding_gap/audio", gap, steps)
    writer.add_scalar("test/binding_gap", 1.5 * gap, steps)  # the headline: audio and frame swapped
    writer.add_scalar("test/binding_gap/frame", gap / 2, steps)
    writer.close()
    segments = {"text": text, "caption": text + 1, "audio": 6.0 + 0.2 * seed, "frame": 5.0}
    floors = {s: {"zlib": 3.41, "bz2": 3.3, "xz": 3.2, "ppmd": 2.9} for s in segments}
    evaluation = {"step": steps, "segments": {s: {"bpb": v} for s, v in segments.items()}, "floors": floors}
    evaluation["floor_convention"] = CONVENTION
    (root / "evaluate.json").write_text(json.dumps(evaluation))
    r1 = (0.5, 0.6)[seed] if door == "zero" else 0.3
    probes = {"retrieval": {"status": "ok", "R@1": r1, "null_R@1": 0.1, "n": 64}}
    (events / "checkpoints" / "probes").mkdir(parents=True)
    (events / "checkpoints" / "probes" / f"test-step{steps}.json").write_text(json.dumps({"probes": probes}))


def _sweep(out: Path) -> None:
    from holozero.commands.sweep import expand

    spec = {"grids": GRIDS, "args": ["--budget.val_every_flops", "1e9"], "reference": {"door": "zero", "K": 8}}
    out.mkdir()
    (out / "spec.yaml").write_text(yaml.safe_dump(spec))
    for run in expand(spec):
        if not (run["door"] == "zero" and run["seed"] == 2):
            _write_run(out, run)


def _load(monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))  # the script puts scripts/ on the path: undone after
    spec = importlib.util.spec_from_file_location("trained_tables", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def tables(tmp_path, monkeypatch, capsys):
    out = tmp_path / "sweep"
    _sweep(out)
    module = _load(monkeypatch)
    module.main([str(out), "--plots", str(tmp_path / "plots")])
    return module, out, capsys.readouterr().out


def row(text: str, start: str, after: str = "") -> str:
    """The first table row starting with ``start`` after the line containing ``after``."""
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(line for line in lines[first:] if line.startswith(start))


def test_budget_tables_floors_and_regime(tables):
    _, _, out = tables
    assert "Runs done: 12 of 14 planned (partial: 2 not done)." in out
    assert "Budgets (training FLOPs): B = 1.0e+09, 4B = 4.0e+09." in out
    zero = row(out, "| zero |", "Budget 4B")
    # text 3.0, 3.2: mean 3.1, half-interval T1 · 0.1; steps 40; the parameters as logged
    assert zero.startswith(f"| zero | 2 | 40 | 1,000,000 | 0 | 3.100 ± {T1 * 0.1:.3f} |")
    embed = row(out, "| byte_embed |", "Budget 4B")
    # 2.9, 3.0 against 3.0, 3.2: Δ −0.1 and −0.2 by seed, mean −0.15
    text_cell = f"| 2.950 ± {T1 * 0.05:.3f} (Δ -0.150, p={p_one_df((-0.1, -0.2)):.2g}) |"
    assert embed.startswith("| byte_embed | 2 | 32 | 1,065,536 | 65,536 " + text_cell)
    assert "| text | 3.4100 | 3.3000 | 3.2000 | 2.9000 |" in out  # the floors, from evaluate.json
    assert f"Floors: {CONVENTION}." in out
    header = "| arm | n | steps | total params | learned input params | text bpb | caption bpb | audio bpb | frame bpb "
    assert row(out, "| arm |", "Budget 4B") == header + "| audio gap | frame gap | gap (both) |"
    # at 4B text 3.1 < zlib 3.41 but the interval reaches it; audio 6.0, 6.2: 6.1 + T1 · 0.1 = 7.37 < 7.5
    regime_4b = row(out, "Regime check", "Budget 4B")
    assert "text 3.100" in regime_4b and "below (the mean; the interval reaches it)" in regime_4b
    assert "audio 6.100" in regime_4b and "below (its whole 95% interval): the trained regime." in regime_4b
    assert "not below" in row(out, "Regime check", "Budget B =") and "not the trained regime" in out


def test_catch_up_is_the_change_of_the_paired_difference(tables):
    _, _, out = tables
    line = row(out, "| byte_embed | text bpb |", "Catch-up")
    # Δ at B: 3.5 − 4.0, 3.7 − 4.4 = −0.5, −0.7; at 4B −0.1, −0.2; change by seed +0.4, +0.5
    at_b = f"-0.600 (p={p_one_df((-0.5, -0.7)):.2g})"
    at_4b = f"-0.150 (p={p_one_df((-0.1, -0.2)):.2g})"
    change = f"+0.450 (p={p_one_df((0.4, 0.5)):.2g}), n=2"
    assert line == f"| byte_embed | text bpb | {at_b} | {at_4b} | {change} |"


def test_binding_beside_the_null_and_the_k_table(tables):
    _, _, out = tables
    null = row(out, "| zero + shuffled captions (null) |", "Binding at 4B")
    assert f"| 0.020 ± {T1 * 0.01:.3f} |" in null  # the control's audio gap: 0.01, 0.03
    # zero − null, paired by seed: 0.29, 0.37; R@1 − null R@1: 0.4, 0.5
    versus = row(out, "| zero |", "Each arm against the null")
    assert versus.startswith(f"| zero | +0.330 (p={p_one_df((0.29, 0.37)):.2g}), n=2 |")
    assert versus.endswith(f"| +0.450 (p={p_one_df((0.4, 0.5)):.2g}), n=2 |")
    k4 = row(out, "| zero K=4 |", "K at 4B")
    # text 3.5, 3.6 against zero K=8's 3.0, 3.2: Δ +0.5, +0.4; bytes/s: the medians 2000, 2200 against 1000
    assert f"| 3.550 ± {T1 * 0.05:.3f} (Δ +0.450, p={p_one_df((0.5, 0.4)):.2g}) |" in k4
    assert k4.endswith(f"| 2100.000 ± {T1 * 100:.3f} (Δ +1100.000, p={p_one_df((1000, 1200)):.2g}) |")
    # K against its own K=8, and byte_embed against the zero door at the same K, paired by seed
    own = row(out, "| zero K=4 − zero K=8 |", "K: paired differences at 4B")
    assert own.startswith(f"| zero K=4 − zero K=8 | +0.450 (p={p_one_df((0.5, 0.4)):.2g}), n=2 |")
    assert own.endswith("| +0.000 (p=1), n=2 |")  # the same audio gaps at K=4 and K=8: a measured 0
    learned = row(out, "| byte_embed − zero at K=8 |", "K: paired differences at 4B")
    # text 2.9, 3.0 against 3.0, 3.2; captions follow the text; audio gap 0.1, 0.2 against 0.3, 0.4
    text_cell = f"-0.150 (p={p_one_df((-0.1, -0.2)):.2g}), n=2"
    assert learned.startswith(f"| byte_embed − zero at K=8 | {text_cell} | {text_cell} | -0.200 (p=")
    assert row(out, "| byte_embed K=4 − byte_embed K=8 |", "K: paired differences at 4B").count("| – ") == 5


def test_missing_runs_are_listed_under_their_tables(tables):
    _, _, out = tables
    missing = row(out, "Missing", "Budget 4B")
    assert missing.startswith("Missing (partial: 4 of 6 planned runs done): ")
    assert "zero K=8 at 4B seed 2 (missing)" in missing
    assert "byte_embed K=8 at 4B seed 2 (fit stopped at step 20 of 32)" in missing
    assert row(out, "Missing", "Budget B =") == "Missing: none — all 4 planned runs of this table are done."
    assert "byte_embed K=4 at 4B (not in the sweep)" in row(out, "Missing", "K at 4B")


def test_learning_curves_at_the_flop_points(tables, tmp_path):
    module, out_dir, out = tables
    study = module.Study(out_dir)
    zero = study.curve("val/text_bpb", "zero", 8, B4["flops"])
    # validations after 10, 20, 30, 40 steps; the spent FLOPs logged at steps 9, 19, ...: (s + 1) · 1.01e8
    assert [p["step"] for p in zero] == [10, 20, 30, 40]
    assert [p["flops"] for p in zero] == pytest.approx([1.01e9, 2.02e9, 3.03e9, 4.04e9])
    assert zero[0]["values"] == pytest.approx([4.5, 4.6])
    embed = study.curve("val/text_bpb", "byte_embed", 8, B4["flops"])
    # no budget/flops logged: step × 1.25e8 FLOPs per batch at steps 8, 16, 24, 32
    assert [p["flops"] for p in embed] == pytest.approx([1e9, 2e9, 3e9, 4e9])
    line = row(out, "| zero |", "Learning curve: val text bpb")
    # 4.5, 4.6 at the first point; 1.0, 1.1 below at the 4th: 3.0, 3.1; the B runs end at 4.3, 4.4
    assert line.startswith(f"| zero | 2 | 4.550 ± {T1 * 0.05:.3f} |")
    assert line.endswith(f"| 3.050 ± {T1 * 0.05:.3f} | 4.350 ± {T1 * 0.05:.3f} |")
    gap = row(out, "| zero + shuffled captions (null) |", "Learning curve: val binding audio gap")
    assert gap.startswith(f"| zero + shuffled captions (null) | 2 | 0.055 ± {T1 * 0.005:.3f} |")
    assert "No run logged val/caption_bpb." in out
    for name in ("curves_text", "curves_caption", "curves_audio", "curves_frame", "curves_binding_gap", "k"):
        png = tmp_path / "plots" / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


def test_a_folder_that_is_no_trained_sweep_is_one_clear_error(tmp_path, monkeypatch):
    module = _load(monkeypatch)
    with pytest.raises(SystemExit, match="is not a sweep folder"):
        module.main([str(tmp_path)])
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump({"grids": [{"door": ["zero"], "K": [8], "seed": [0]}]}))
    with pytest.raises(
        SystemExit, match=r"spec.yaml is no trained-regime sweep: .*\(run door=zero,K=8,seed=0 has not\)"
    ):
        module.main([str(tmp_path)])


def test_a_sweep_with_one_seed_done_shows_its_values_and_differences_untested(tmp_path, monkeypatch, capsys):
    """A partial sweep's first seed: each cell its one value (no '± nan'), each Δ its one
    difference, marked as untested (before, every Δ of one seed was '–')."""
    out = tmp_path / "sweep"
    _sweep(out)
    for run in (out / "runs").iterdir():
        if run.name.endswith("seed=1"):
            (run / "status.json").write_text(json.dumps({"status": "failed"}))
    _load(monkeypatch).main([str(out)])
    text = capsys.readouterr().out
    assert "nan" not in text
    embed = row(text, "| byte_embed |", "Budget 4B")
    assert "| 2.900 (Δ -0.100, one seed) |" in embed  # 2.9 − 3.0, seed 0
    line = row(text, "| byte_embed | text bpb |", "Catch-up")
    # Δ at B: 3.5 − 4.0 = −0.5; at 4B −0.1; the change −0.1 − (−0.5) = +0.4
    untested = "(one seed, no test)"
    assert line == f"| byte_embed | text bpb | -0.500 {untested} | -0.100 {untested} | +0.400 {untested}, n=1 |"
    versus = row(text, "| zero |", "Each arm against the null")
    assert versus.startswith(f"| zero | +0.290 {untested}, n=1 |")  # audio gap 0.30 − the null's 0.01
    k = row(text, "| zero K=4 − zero K=8 |", "K: paired differences")
    assert k.startswith(f"| zero K=4 − zero K=8 | +0.500 {untested}, n=1 |")  # 3.5 − 3.0, seed 0
    k = row(text, "| byte_embed − zero at K=4 |", "K: paired differences")
    assert k == "| byte_embed − zero at K=4 | – | – | – | – | – |"  # no byte_embed at K=4: nothing to pair
