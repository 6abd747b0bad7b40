"""``holozero sweep SPEC.yaml --out DIR``: a grid of ordinary ``holozero fit`` + ``test`` runs.

A spec (see ``configs/sweeps/``)::

    base: [configs/quickstart.yaml]        # stacked configs of every run
    args: [--trainer.max_steps, "100000"]  # extra CLI arguments of every run
    grid:                                  # the runs are the product of these lists
      door: [zero, hsl_proj]               #   -> --config configs/doors/<door>.yaml
      K: [4, 8]                            #   -> --data.init_args.K
      modalities: [[text, captioned]]      #   -> --data.init_args.modalities
      budget: [{flops: 2.0e12}]            #   -> --budget.flops ...
      configs: [[configs/controls/zlib_text.yaml]]   # -> more stacked configs
      seed: [0, 1, 2]                      #   -> --seed_everything
    exclude: [{door: onehot, K: 8}]        # leave these combinations out
    reference: {door: zero}                # the arm paired differences are taken against
    test: true                             # run `holozero test` on the last checkpoint

Each run gets ``DIR/runs/<id>/`` with its command, log, status and Lightning run. Finished
runs are skipped when the same command is run again; a crashed run is retried once
(resuming from its last checkpoint when it has one) and then recorded as failed, log kept.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

GRID_ORDER = ("door", "K", "modalities", "budget", "configs", "seed")
DOOR_CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "doors"


def load_spec(path: str | Path) -> dict:
    spec = yaml.safe_load(Path(path).read_text())
    if not isinstance(spec, dict) or "grid" not in spec:
        raise ValueError(f"sweep spec {path} needs a 'grid' mapping")
    unknown = set(spec["grid"]) - set(GRID_ORDER)
    if unknown:
        raise ValueError(f"sweep spec {path}: unknown grid keys {sorted(unknown)}; use {list(GRID_ORDER)}")
    return spec


def expand(spec: dict) -> list[dict]:
    """Every combination of the grid, minus exclusions; each a dict of grid values."""
    keys = [k for k in GRID_ORDER if k in spec["grid"]]
    runs = []
    for values in itertools.product(*(spec["grid"][k] for k in keys)):
        run = dict(zip(keys, values, strict=True))
        if any(all(run.get(k) == v for k, v in ex.items()) for ex in spec.get("exclude", []) or []):
            continue
        runs.append(run)
    return runs


def arm_of(run: dict) -> dict:
    return {k: v for k, v in run.items() if k != "seed"}


def run_id(run: dict) -> str:
    def fmt(v):
        if isinstance(v, dict):
            return "+".join(f"{k}{v[k]:g}" if isinstance(v[k], float) else f"{k}{v[k]}" for k in sorted(v))
        if isinstance(v, list):
            return "+".join(Path(str(x)).stem for x in v)
        return str(v)

    return ",".join(f"{k}={fmt(run[k])}" for k in GRID_ORDER if k in run)


def fit_args(spec: dict, run: dict, root: Path) -> list[str]:
    args = []
    for cfg in spec.get("base", []) or []:
        args += ["--config", str(cfg)]
    if "door" in run:
        args += ["--config", str(DOOR_CONFIGS / f"{run['door']}.yaml")]
    for cfg in run.get("configs", []) or []:
        args += ["--config", str(cfg)]
    if "K" in run:
        args += ["--data.init_args.K", str(run["K"])]
    if "modalities" in run:
        args += ["--data.init_args.modalities", json.dumps(run["modalities"])]
    for name, value in (run.get("budget") or {}).items():
        args += [f"--budget.{name}", str(value)]
    if "seed" in run:
        args += ["--seed_everything", str(run["seed"])]
    args += [str(a) for a in spec.get("args", []) or []]
    return args + ["--trainer.default_root_dir", str(root), "--trainer.enable_progress_bar", "false"]


def commands(spec: dict, run: dict, out: Path) -> list[list[str]]:
    root = out / "runs" / run_id(run)
    fit = [sys.executable, "-m", "holozero", "fit", *fit_args(spec, run, root)]
    cmds = [fit]
    if spec.get("test", True):
        cmds.append(
            [
                sys.executable,
                "-m",
                "holozero",
                "test",
                *fit_args(spec, run, root / "test"),
                "--ckpt_path",
                str(root / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"),
            ]
        )
    return cmds


def status(root: Path) -> dict:
    path = root / "status.json"
    return json.loads(path.read_text()) if path.exists() else {"status": "missing", "attempts": 0}


def execute(spec: dict, run: dict, out: Path, threads: int) -> str:
    root = out / "runs" / run_id(run)
    state = status(root)
    if state["status"] == "done" or (state["status"] == "failed" and state["attempts"] >= 2):
        return state["status"]
    root.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    for attempt in range(state["attempts"] + 1, 3):
        cmds = commands(spec, run, out)
        last = root / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"
        if last.exists() and attempt > 1:  # a crashed run resumes where it stopped
            cmds[0] = cmds[0] + ["--ckpt_path", "last"]
        (root / "command.txt").write_text("\n".join(shlex.join(c) for c in cmds) + "\n")
        with open(root / f"attempt{attempt}.log", "w") as log:
            ok = all(
                subprocess.run(c, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=Path.cwd()).returncode == 0
                for c in cmds
            )
        result = "done" if ok else "failed"
        (root / "status.json").write_text(json.dumps({"status": result, "attempts": attempt, "run": run}))
        if ok:
            return result
    return "failed"


def emit(spec: dict, runs: list[dict], out: Path, kind: str) -> Path:
    lines = [" && ".join(shlex.join(c) for c in commands(spec, r, out)) for r in runs]
    if kind == "commands":
        path = out / "commands.sh"
        path.write_text("\n".join(lines) + "\n")
        return path
    path = out / "sweep.slurm"
    body = "\n".join(f"  {shlex.quote(line)}" for line in lines)
    path.write_text(
        "#!/bin/bash\n"
        f"#SBATCH --job-name=holozero-sweep\n#SBATCH --array=0-{len(lines) - 1}\n"
        "#SBATCH --output=slurm-%A_%a.log\n#SBATCH --gres=gpu:1\n\n"
        f"cd {shlex.quote(str(Path.cwd()))}\nRUNS=(\n{body}\n)\n"
        'eval "${RUNS[$SLURM_ARRAY_TASK_ID]}"\n'
    )
    return path


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="holozero sweep", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("spec")
    p.add_argument("--out", required=True)
    p.add_argument("--jobs", type=int, default=1, help="runs at once (threads are shared out)")
    p.add_argument("--emit", choices=["commands", "slurm"], help="write the runs for a cluster instead")
    args = p.parse_args(argv)
    spec, out = load_spec(args.spec), Path(args.out).resolve()
    runs = expand(spec)
    out.mkdir(parents=True, exist_ok=True)
    (out / "spec.yaml").write_text(yaml.safe_dump(spec | {"runs": [run_id(r) for r in runs]}, sort_keys=False))
    if args.emit:
        print(f"holozero sweep: {len(runs)} runs written to {emit(spec, runs, out, args.emit)}")
        return
    threads = max(1, (os.cpu_count() or 1) // max(args.jobs, 1))
    with ThreadPoolExecutor(max_workers=max(args.jobs, 1)) as pool:
        results = list(pool.map(lambda r: (run_id(r), execute(spec, r, out, threads)), runs))
    failed = [rid for rid, s in results if s != "done"]
    print(
        f"holozero sweep: {len(results) - len(failed)} done, {len(failed)} failed"
        + (f": {', '.join(failed)}" if failed else "")
    )
    if failed:
        raise SystemExit(1)
