"""End to end through the `holozero` CLI: configs, door swap, training, TensorBoard, seeds."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
import yaml
from helpers import run_cli, scalars, tiny_fit_args, write_docs

from datamodules.base import WindowDataModule
from datamodules.controls import markov2_chain
from holozero.commands.cli import HoloCLI
from models import ByteLM

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs"
# a base config is a whole run (it has a trainer section); the rest stack on top of one
BASE_CONFIGS = sorted(p for p in CONFIGS.glob("*.yaml") if "trainer" in yaml.safe_load(p.read_text()))
SWEEPS = sorted(p for p in CONFIGS.rglob("*.yaml") if {"grid", "grids"} & set(yaml.safe_load(p.read_text())))
STACKED = sorted(
    p
    for p in CONFIGS.rglob("*.yaml")
    if p not in BASE_CONFIGS and p not in SWEEPS and "trainer" not in yaml.safe_load(p.read_text())
)
SWEEP_BASES = sorted(  # the whole-run bases of sweeps (stacked sweep configs are in STACKED)
    p for p in CONFIGS.rglob("*.yaml") if p.parent.name == "sweeps" and p not in SWEEPS and p not in STACKED
)


def _cli(configs: list[Path], extra: list[str] = ()) -> HoloCLI:
    args = [a for c in configs for a in ("--config", str(c))] + list(extra)
    return HoloCLI(ByteLM, WindowDataModule, subclass_mode_data=True, run=False, args=args)


def test_there_are_configs_to_parse():
    assert {p.name for p in BASE_CONFIGS} >= {"zero_k8.yaml", "quickstart.yaml"}
    assert len(STACKED) >= 18


@pytest.mark.parametrize("config", BASE_CONFIGS, ids=lambda p: p.name)
def test_base_config_parses_and_instantiates(config):
    cli = _cli([config])
    assert cli.model.net.door.K == cli.datamodule.hparams.K  # linked once
    assert cli.model.net.door.dim == cli.model.net.body.dim


@pytest.mark.parametrize("config", STACKED, ids=lambda p: str(p.relative_to(CONFIGS)))
def test_stackable_config_parses_on_the_published_recipe(config):
    cli = _cli([CONFIGS / "zero_k8.yaml", config])
    assert cli.model.net.door.K == cli.datamodule.hparams.K


@pytest.mark.slow
def test_quickstart_validates_and_writes_last_ckpt_three_times(tmp_path, tiny_corpus):
    cfg = _cli([CONFIGS / "quickstart.yaml"]).config
    assert cfg.trainer.max_steps // cfg.trainer.val_check_interval >= 3 and cfg.checkpoint.save_last
    # the same cadence in a tiny run: every validation writes the checkpoints (last.ckpt among them)
    from helpers import CountSaves

    CountSaves.saves = []
    _fit(
        tmp_path,
        tiny_corpus,
        ["--data.init_args.val_bytes", "1024", "--trainer.callbacks+=helpers.CountSaves"],
        steps=cfg.trainer.max_steps // 10,
    )
    assert len(set(CountSaves.saves)) >= 3, CountSaves.saves


@pytest.mark.parametrize("config", SWEEP_BASES, ids=lambda p: p.name)
def test_sweep_base_config_parses(config):
    cli = _cli([config])
    assert cli.model.net.door.K == cli.datamodule.K


@pytest.mark.parametrize("spec", SWEEPS, ids=lambda p: p.name)
def test_sweep_specs_expand_and_every_run_parses(spec):
    from holozero.commands.sweep import expand, fit_args, load_spec, run_id

    loaded = load_spec(spec)
    runs = expand(loaded)
    assert runs
    for run in runs[:: max(1, len(runs) // 6)]:  # a spread of runs: each is a valid CLI invocation, from anywhere
        args = fit_args(loaded, run, Path("/tmp/unused"))
        assert all(Path(a).is_absolute() for a, flag in zip(args[1:], args[:-1], strict=True) if flag == "--config")
        cli = HoloCLI(ByteLM, WindowDataModule, subclass_mode_data=True, run=False, args=args)
        if "door" in run:  # the door is built from the registry by class path, no file of the checkout
            from holozero.commands.sweep import BASELINES
            from holozero.doors import PRESETS

            name = BASELINES[run["door"]][0] if run["door"] in BASELINES else run["door"]
            assert type(cli.model.net.door) is PRESETS[name].cls
            assert cli.model.net.per_byte == (run["door"] == "per_byte")  # the baseline is its own arm
    per_byte = [r for r in runs if r.get("door") == "per_byte"]
    for run in per_byte:  # the per-byte baseline runs at K=1 only, named apart from the zero door at K=1
        cli = HoloCLI(
            ByteLM, WindowDataModule, subclass_mode_data=True, run=False, args=fit_args(loaded, run, Path("/tmp/u"))
        )
        assert cli.model.net.per_byte and cli.datamodule.K == 1 and run_id(run) != run_id(dict(run, door="zero"))


def test_published_recipe_size():
    cli = _cli([CONFIGS / "zero_k8.yaml"])
    body = sum(p.numel() for p in cli.model.net.body.parameters())
    assert 24e6 < body < 26e6  # "~25M"
    assert cli.model.learned_input_parameters == 0


def test_door_swap_changes_only_the_door():
    base = _cli([CONFIGS / "zero_k8.yaml"]).config
    swapped = _cli([CONFIGS / "zero_k8.yaml", CONFIGS / "doors" / "hsl_proj.yaml"]).config
    a, b = base.as_dict(), swapped.as_dict()
    assert a["model"]["door"]["class_path"] == "holozero.doors.ZeroDoor"
    assert b["model"]["door"]["class_path"] == "holozero.doors.HSLProjDoor"
    for cfg in (a, b):
        cfg["model"].pop("door"), cfg.pop("config")
    assert a == b


def _fit(tmp: Path, paths: list[str], extra: list[str], steps: int, seed: int = 0) -> Path:
    args = tiny_fit_args(
        paths,
        tmp,
        steps,
        dim=128,
        layers=2,
        heads=4,
        K=4,
        context=32,
        stream=32,
        batch=32,
        val_every=max(steps // 3, 1),
        log_every=10,
        seed=seed,
    )
    run_cli(
        [
            "fit",
            *args,
            "--model.lr",
            "3e-3",
            "--model.warmup_fraction",
            str(min(20 / steps, 0.5)),  # 20 steps of warmup, at most half the run
            "--data.init_args.cache_dir",
            str(tmp / "cache"),
            *extra,
        ]
    )
    versions = sorted((tmp / "lightning_logs").iterdir())
    return versions[-1]


@pytest.mark.slow
def test_markov_source_reaches_its_entropy_rate(tmp_path):
    chain = markov2_chain(alphabet=8, alpha=0.3, seed=0)
    H = chain.entropy_rate
    rng = np.random.default_rng(1)
    docs = [chain.sample(20_000, rng) for _ in range(20)]
    paths = write_docs(tmp_path / "data", docs)
    # on the oneDNN GEMMs (models/gemm.py), so the longest convergence run covers them too
    extra = ["--data.init_args.val_bytes", "32768", "--model.body.init_args.gemm", "onednn"]
    run = _fit(tmp_path, paths, extra, steps=600)
    val = [v for _, v in scalars(run)["val/bpb"]]
    assert val[-1] <= H + 0.15, (val, H)
    assert min(val) >= H - 0.02, (val, H)


@pytest.mark.slow
def test_uniform_random_bytes_stay_at_8_bits(tmp_path):
    rng = np.random.default_rng(2)
    paths = write_docs(tmp_path / "data", [rng.integers(0, 256, 20_000) for _ in range(10)])
    run = _fit(tmp_path, paths, ["--data.init_args.val_bytes", "16384"], steps=150)
    val = [v for _, v in scalars(run)["val/bpb"]]
    assert len(val) == 3 and min(val) >= 7.9, val


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory):
    chain = markov2_chain(alphabet=16, alpha=0.5, seed=3)
    rng = np.random.default_rng(4)
    return write_docs(tmp_path_factory.mktemp("tiny"), [chain.sample(5_000, rng) for _ in range(8)])


@pytest.mark.slow
def test_event_files_hold_every_tag(tmp_path, tiny_corpus):
    run = _fit(tmp_path, tiny_corpus, ["--data.init_args.val_bytes", "2048", "--throughput.window_size", "5"], steps=30)
    tags = scalars(run)
    for tag in (
        "train/loss",
        "train/bpb",
        "train/lr",
        "val/bpb",
        "val/text_bpb",
        "model/learned_input_params",
        "train/device/items_per_sec",
        "train/device/flops_per_sec",
    ):
        assert tag in tags, (tag, sorted(tags))
    assert tags["model/learned_input_params"][0][1] == 0
    assert (run / "config.yaml").exists() and (run / "checkpoints" / "last.ckpt").exists()
    assert yaml.safe_load((run / "config.yaml").read_text())["model"]["door"]["class_path"] == "holozero.doors.ZeroDoor"


@pytest.mark.slow
def test_seeds_give_different_reproducible_runs(tmp_path, tiny_corpus):
    def losses(seed: int, name: str) -> list[float]:
        run = _fit(tmp_path / name, tiny_corpus, ["--data.init_args.val_bytes", "2048"], steps=20, seed=seed)
        return [v for _, v in scalars(run)["train/loss"]] + [v for _, v in scalars(run)["val/bpb"]]

    one, one_again, two = losses(1, "a"), losses(1, "b"), losses(2, "c")
    assert one == one_again
    assert one != two


@pytest.fixture(scope="module")
def embedded_cache(tmp_path_factory):
    """One cache for the tests on the embedded corpus: the first of them builds it there."""
    return tmp_path_factory.mktemp("embedded_cache")


@pytest.mark.slow
def test_mixture_on_the_embedded_corpus_logs_every_modality(tmp_path, monkeypatch, embedded_cache):
    """The default data of the shipped configs: built offline from packages, all four bpbs."""
    monkeypatch.setenv("HOLOZERO_CACHE", str(embedded_cache))
    run_cli(
        [
            "fit",
            "--config",
            str(CONFIGS / "quickstart.yaml"),
            "--trainer.default_root_dir",
            str(tmp_path),
            "--trainer.max_steps",
            "8",
            "--trainer.val_check_interval",
            "8",
            "--trainer.limit_val_batches",
            "2",
            "--trainer.enable_progress_bar",
            "false",
            "--model.body.init_args.n_layers",
            "1",
        ]
    )
    tags = scalars(next((tmp_path / "lightning_logs").iterdir()))
    for seg in ("text", "caption", "audio", "frame"):
        assert f"val/{seg}_bpb" in tags, sorted(tags)
    assert tags["data/skipped_items"][0][1] == 0


@pytest.mark.slow
def test_the_smoke_config_shows_every_part_of_the_pipeline(tmp_path, monkeypatch, embedded_cache, caplog):
    """configs/smoke.yaml as shipped: training on all four modalities, validation, the binding
    gap, the probes and the end-of-run summary (its time: README, measured with /usr/bin/time)."""
    monkeypatch.setenv("HOLOZERO_CACHE", str(embedded_cache))
    with caplog.at_level(logging.INFO):
        run_cli(["fit", "--config", str(CONFIGS / "smoke.yaml"), "--trainer.default_root_dir", str(tmp_path)])
    run = tmp_path / "lightning_logs" / "version_0"
    tags = scalars(run)
    assert max(s for s, _ in tags["train/loss"]) >= 30
    assert len(tags["val/bpb"]) == 2
    for seg in ("text", "caption", "audio", "frame"):
        assert f"val/{seg}_bpb" in tags, sorted(tags)
    assert {"val/binding_gap/both", "val/binding_gap/audio", "val/binding_gap/frame"} <= set(tags)
    probes = json.loads((run / "checkpoints" / "probes" / "val-step40.json").read_text())["probes"]
    assert any(p["status"] == "ok" for p in probes.values())
    summary = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("holozero fit: 40 steps"))
    assert "caption_bpb" in summary and "binding_gap" in summary
