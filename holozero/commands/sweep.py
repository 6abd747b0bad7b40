"""``holozero sweep SPEC.yaml --out DIR``: a grid of ordinary ``holozero fit`` + ``test`` runs.

A spec (see ``configs/sweeps/``); every path in it is relative to the spec file::

    base: [../quickstart.yaml]             # stacked configs of every run
    args: [--trainer.max_steps, "100000"]  # extra CLI arguments of every run
    grid:                                  # the runs are the product of these lists
      door: [zero, hsl_proj]               #   -> --model.door, built from holozero.doors.PRESETS[door]
      K: [4, 8]                            #   -> --data.init_args.K
      modalities: [[text, captioned]]      #   -> --data.init_args.modalities
      budget: [{flops: 2.0e12}]            #   -> --budget.flops ...
      configs: [[../controls/zlib_text.yaml]]   # -> more stacked configs
      seed: [0, 1, 2]                      #   -> --seed_everything
    exclude: [{door: onehot, K: 8}]        # leave these combinations out
    # or `grids: [{...}, {...}]` (same axes each): the runs are the union of the grids, each
    # run once — a boundary map's schedule, K and geometry sub-grids share their common runs
    reference: {door: zero}                # the arm paired differences are taken against
    test: true                             # run `holozero test` on the last checkpoint
    evaluate: true                         # and `holozero evaluate` (whole test split + floors)

A door name is any key of ``holozero.doors.PRESETS``, or ``per_byte``: the per-byte baseline
(a learned byte embedding, no prefix slot, every position trained), which runs at K=1 and is
named apart from the zero door at K=1.

Doors are named by their registry name and passed by class path, so a sweep needs no file
of the checkout and runs from an installed package. Runs start in the spec's folder, so
relative paths in ``args`` (and in the stacked configs' data paths) are relative to it too.

Each run gets ``DIR/runs/<id>/`` with its command, log, status and Lightning run; the test
of a run writes into the run's own ``lightning_logs/version_0``. A run is done when its
commands exit 0 and its fit says it reached its target step (``fit_status.json``), with its
last.ckpt (what the test and the evaluate score) saved at that step. Finished
runs are skipped when the same command is run again; an unfinished run resumes from its last
checkpoint. SIGTERM / SIGINT to the sweep are passed to the runs, which save and stop; they
are recorded ``stopped`` (not failed) and the next sweep resumes them. A crashed run is
retried once and then recorded as failed, log kept.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from .args import CommandParser

GRID_ORDER = ("door", "K", "modalities", "budget", "configs", "seed")
# Arms that are more than a door: name -> (door preset, extra fit arguments, the only K it runs at).
BASELINES = {"per_byte": ("byte_embed", ["--model.per_byte", "true"], 1)}


def _relative_to(folder: Path, paths, what: str, spec_path: Path) -> list[str]:
    if paths is None:
        return []
    if not isinstance(paths, list):
        raise ValueError(f"sweep spec {spec_path}: {what} must be a list of config files, got {paths!r}")
    resolved = [(folder / str(p)).resolve() for p in paths]
    missing = [str(p) for p, r in zip(paths, resolved, strict=True) if not r.is_file()]
    if missing:
        raise FileNotFoundError(f"sweep spec {spec_path}: {what}: no such file {missing[0]} (relative to {folder})")
    return [str(r) for r in resolved]


def load_spec(path: str | Path) -> dict:
    """The spec with every config path made absolute (relative to the spec file), checked."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"sweep spec {path} does not exist")
    spec = yaml.safe_load(path.read_text())
    if isinstance(spec, dict) and isinstance(spec.get("grid"), dict):
        spec["grids"] = [spec.pop("grid")]
    grids = spec.get("grids") if isinstance(spec, dict) else None
    if not isinstance(grids, list) or not grids or not all(isinstance(g, dict) for g in grids):
        raise ValueError(f"sweep spec {path} needs a 'grid' mapping (or 'grids', a list of them)")
    if any(set(g) != set(grids[0]) for g in grids):
        raise ValueError(f"sweep spec {path}: every grid must name the same axes, got {[sorted(g) for g in grids]}")
    unknown = set(grids[0]) - set(GRID_ORDER)
    if unknown:
        raise ValueError(f"sweep spec {path}: unknown grid keys {sorted(unknown)}; use {list(GRID_ORDER)}")
    folder = path.resolve().parent
    spec["base"] = _relative_to(folder, spec.get("base"), "base", path)
    for grid in grids:
        if "configs" in grid:
            grid["configs"] = [_relative_to(folder, c, "grid.configs", path) for c in grid["configs"]]
    if "door" in grids[0]:
        from holozero.doors import PRESETS

        wrong = [d for g in grids for d in g["door"] if d not in PRESETS and d not in BASELINES]
        if wrong:
            known = ", ".join(sorted([*PRESETS, *BASELINES]))
            raise ValueError(f"sweep spec {path}: unknown door {wrong[0]!r}; doors: {known}")
        for run in expand(spec):
            name = run.get("door")
            if name in BASELINES and run.get("K", BASELINES[name][2]) != BASELINES[name][2]:
                raise ValueError(
                    f"sweep spec {path}: the {name} baseline runs at K={BASELINES[name][2]} only; "
                    f"exclude {{door: {name}, K: {run['K']}}}"
                )
    spec["folder"] = str(folder)  # where its runs start
    return spec


def expand(spec: dict) -> list[dict]:
    """Every combination of each grid, minus exclusions, each run once (in grid order); each a
    dict of grid values."""
    grids = spec["grids"] if "grids" in spec else [spec["grid"]]
    runs, seen = [], set()
    for grid in grids:
        keys = [k for k in GRID_ORDER if k in grid]
        for values in itertools.product(*(grid[k] for k in keys)):
            run = dict(zip(keys, values, strict=True))
            if any(all(run.get(k) == v for k, v in ex.items()) for ex in spec.get("exclude", []) or []):
                continue
            if (rid := run_id(run)) not in seen:
                seen.add(rid)
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


def door_argument(name: str) -> str:
    """``--model.door`` of a registry name: its class path and preset arguments, as JSON."""
    from holozero.doors import PRESETS

    return json.dumps(PRESETS[name].config(), separators=(",", ":"))


def fit_args(spec: dict, run: dict, root: Path) -> list[str]:
    args = []
    for cfg in spec.get("base", []) or []:
        args += ["--config", str(cfg)]
    if run.get("door") in BASELINES:
        door, extra, _ = BASELINES[run["door"]]
        args += ["--model.door", door_argument(door), *extra]
    elif "door" in run:
        args += ["--model.door", door_argument(run["door"])]
    for cfg in run.get("configs", []) or []:
        args += ["--config", str(cfg)]
    K = BASELINES[run["door"]][2] if run.get("door") in BASELINES else run.get("K")
    if K is not None:
        args += ["--data.init_args.K", str(K)]
    if "modalities" in run:
        args += ["--data.init_args.modalities", json.dumps(run["modalities"])]
    for name, value in (run.get("budget") or {}).items():
        args += [f"--budget.{name}", str(value)]
    if "seed" in run:
        args += ["--seed_everything", str(run["seed"])]
    args += [str(a) for a in spec.get("args", []) or []]
    return args + ["--trainer.default_root_dir", str(root), "--trainer.enable_progress_bar", "false"]


def last_checkpoint(root: Path) -> Path:
    return root / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"


def commands(spec: dict, run: dict, out: Path) -> list[list[str]]:
    root = out / "runs" / run_id(run)
    cmds = [[sys.executable, "-m", "holozero", "fit", *fit_args(spec, run, root)]]
    if spec.get("test", True):  # scored into the run's own folder, at its last step
        test = [sys.executable, "-m", "holozero", "test", *fit_args(spec, run, root)]
        cmds.append(test + ["--ckpt_path", str(last_checkpoint(root))])
    if spec.get("evaluate", False):  # the whole test split, every byte once, beside the floors
        evaluate = ["--ckpt_path", str(last_checkpoint(root)), "--no_progress", "--out", str(root / "evaluate.json")]
        cmds.append([sys.executable, "-m", "holozero", "evaluate", *evaluate])
    return cmds


def status(root: Path) -> dict:
    path = root / "status.json"
    return json.loads(path.read_text()) if path.exists() else {"status": "missing", "attempts": 0}


# exit codes of a command stopped by a signal (143 / 130 from holozero fit; -15 / -2 when a
# process was killed before it could say so): the run is unfinished, not failed
STOPPED = {143, 130, -signal.SIGTERM, -signal.SIGINT}


class Children:
    """The commands running now, so a signal to the sweep reaches them (each saves and stops)."""

    def __init__(self):
        self.procs: set[subprocess.Popen] = set()
        self.lock = threading.Lock()
        self.stopping: str | None = None  # the signal that stops the sweep

    def run(self, cmd: list[str], **kwargs) -> int:
        with self.lock:
            if self.stopping:
                return 143 if self.stopping == "SIGTERM" else 130
            proc = subprocess.Popen(cmd, **kwargs)
            self.procs.add(proc)
        try:
            return proc.wait()
        finally:
            with self.lock:
                self.procs.discard(proc)

    def stop(self, signum: int, frame=None) -> None:
        with self.lock:
            self.stopping = signal.Signals(signum).name
            for proc in self.procs:
                proc.send_signal(signum)


CHILDREN = Children()


def fit_finished(root: Path) -> bool:
    """Whether the run's fit says it reached its target step (``fit_status.json``)."""
    path = root / "lightning_logs" / "version_0" / "fit_status.json"
    return path.is_file() and json.loads(path.read_text()).get("state") == "finished"


def stale_checkpoint(root: Path) -> str | None:
    """Why the run's last.ckpt is not the model its fit finished with, or None when it is: the
    test and the evaluate score last.ckpt, so one saved at an earlier step would score another
    model (Lightning 2.6's ModelCheckpoint kept last.ckpt at the best step, issue #28)."""
    from callbacks.run_status import checkpoint_step, read_status

    fit, saved = read_status(root / "lightning_logs" / "version_0"), checkpoint_step(last_checkpoint(root))
    if saved != fit["step"]:
        return f"{last_checkpoint(root)} is at step {saved}, but the fit finished at step {fit['step']}"
    return None


def execute(spec: dict, run: dict, out: Path, threads: int) -> str:
    """Runs one run's commands. ``done``: every command exited 0 and the fit finished. A run
    stopped by a signal is ``stopped`` (not an attempt: the next sweep resumes it from its last
    checkpoint); a crash is an attempt, retried once, then ``failed``."""
    root = out / "runs" / run_id(run)
    state = status(root)
    if state["status"] == "done" or (state["status"] == "failed" and state["attempts"] >= 2):
        return state["status"]
    root.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    attempt = state["attempts"] + 1
    while attempt <= 2:
        cmds = commands(spec, run, out)
        if last_checkpoint(root).exists():  # an unfinished run resumes where it stopped
            cmds[0] = cmds[0] + ["--ckpt_path", "last"]
        elif (root / "lightning_logs").exists():  # nothing to resume from: start it over, in version_0
            shutil.rmtree(root / "lightning_logs")
        lines = [f"cd {shlex.quote(spec['folder'])}", *map(shlex.join, cmds)]
        (root / "command.txt").write_text("\n".join(lines) + "\n")
        result = "done"
        with open(root / f"attempt{attempt}.log", "a") as log:
            for i, cmd in enumerate(cmds):
                code = CHILDREN.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=spec["folder"])
                if code in STOPPED:
                    result = "stopped"
                elif code != 0 or (i == 0 and not fit_finished(root)):
                    result = "failed"
                elif i == 0 and len(cmds) > 1 and (why := stale_checkpoint(root)):
                    print(f"holozero sweep: not scored: {why}", file=log, flush=True)
                    result = "failed"
                if result != "done":
                    break
        counted = attempt if result != "stopped" else attempt - 1
        (root / "status.json").write_text(json.dumps({"status": result, "attempts": counted, "run": run}))
        if result in ("done", "stopped"):
            return result
        attempt += 1
    return "failed"


def emit(spec: dict, runs: list[dict], out: Path, kind: str) -> Path:
    lines = [" && ".join(shlex.join(c) for c in commands(spec, r, out)) for r in runs]
    if kind == "commands":
        path = out / "commands.sh"
        path.write_text(f"cd {shlex.quote(spec['folder'])}\n" + "\n".join(lines) + "\n")
        return path
    path = out / "sweep.slurm"
    body = "\n".join(f"  {shlex.quote(line)}" for line in lines)
    path.write_text(
        "#!/bin/bash\n"
        f"#SBATCH --job-name=holozero-sweep\n#SBATCH --array=0-{len(lines) - 1}\n"
        "#SBATCH --output=slurm-%A_%a.log\n#SBATCH --gres=gpu:1\n\n"
        f"cd {shlex.quote(spec['folder'])}\nRUNS=(\n{body}\n)\n"
        'eval "${RUNS[$SLURM_ARRAY_TASK_ID]}"\n'
    )
    return path


def main(argv: list[str] | None = None) -> None:
    p = CommandParser(prog="holozero sweep", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
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
    if threading.current_thread() is threading.main_thread():  # a signal stops the runs, saved
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, CHILDREN.stop)
    with ThreadPoolExecutor(max_workers=max(args.jobs, 1)) as pool:
        results = list(pool.map(lambda r: (run_id(r), execute(spec, r, out, threads)), runs))
    failed = [rid for rid, s in results if s == "failed"]
    stopped = [rid for rid, s in results if s == "stopped"]
    done = len(results) - len(failed) - len(stopped)
    print(
        f"holozero sweep: {done} done, {len(failed)} failed"
        + (f": {', '.join(failed)}" if failed else "")
        + (f"; {len(stopped)} stopped (run the same command to resume them)" if stopped else "")
    )
    if CHILDREN.stopping:
        raise SystemExit(143 if CHILDREN.stopping == "SIGTERM" else 130)
    if failed or stopped:
        raise SystemExit(1)
