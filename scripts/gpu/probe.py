"""The throughput probe: step time of real fits at the published shape, alone and several at
once, and whether ``torch.compile`` pays — measured before any run is planned.

Workers (probe_worker.py) are real ``holozero fit`` processes of the campaign's own runs:
eager worker i fits arm ``arms[i mod 5]`` (so every level of five or more holds each arm
equally; the per-byte baseline is swapped in where a short level list would leave it out).
They start together, warm up, and then count steps in timed phases, one phase at a time:

  alone:packed      the zero door alone (MFU at the published shape is this phase's)
  alone:per_byte    the per-byte baseline alone (its step is several packed steps)
  level:L           workers 0..L-1 at once, for each L > 1 of ``settings.levels``

A compile worker (the zero door with ``--model.compile true``) starts first, compiles while the
GPU tests and the eager workers start, is stopped (SIGSTOP, its whole process group) while the
eager phases are timed, then resumed; if it is ready within its compile budget (its own active
time beyond an eager worker's start-up: at most ``compile_cap_s`` and at most a whole run's eager
step time, the most compiling could save) it is timed alone, else it is killed and compile is
judged by that bound.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from holozero.commands.sweep import fit_args

from .plan import Job, choose_level, compile_decision, step_times
from .settings import Settings

WORKER = Path(__file__).with_name("probe_worker.py")


class Worker:
    def __init__(self, index: int, job: Job, compiled: bool):
        self.index, self.job, self.compiled = index, job, compiled
        self.proc: subprocess.Popen | None = None
        self.ready: dict | None = None
        self.result: dict | None = None
        self.stopped: list[list[float]] = []  # [stop, cont] intervals (compile worker)

    @property
    def kind(self) -> str:
        return self.job.kind

    def describe(self) -> dict:
        return {
            "index": self.index,
            "arm": self.job.run["door"],
            "kind": self.kind,
            "compile": self.compiled,
            "ready": self.ready,
            "result": self.result,
            "returncode": None if self.proc is None else self.proc.poll(),
        }

    def active_s(self, since: float, until: float) -> float:
        """Wall time between two moments minus the time this worker was stopped."""
        paused = sum(max(0.0, min(b if b else until, until) - max(a, since)) for a, b in self.stopped)
        return until - since - paused


class Probe:
    def __init__(self, settings: Settings, spec: dict, jobs: list[Job], work: Path, env: dict, log):
        self.settings, self.spec, self.work, self.env, self.log = settings, spec, work, env, log
        self.control = work / "probe"
        self.control.mkdir(parents=True, exist_ok=True)
        first = {j.run["door"]: j for j in jobs if j.schedule == "main" and j.run["seed"] == settings.first_seeds[0]}
        n = max(settings.levels)
        arms = [settings.arms[i % len(settings.arms)] for i in range(n)]
        if "per_byte" in first and "per_byte" not in arms:
            arms[-1] = "per_byte"  # a short level list still measures the baseline
        self.eager = [Worker(i, first[a], False) for i, a in enumerate(arms)]
        self.compile = Worker(n, first["zero"], True) if settings.compile_cap_s > 0 else None
        self.t_compile = self.t_eager = 0.0

    # --- processes -------------------------------------------------------------------------
    def _launch(self, worker: Worker, threads: int) -> None:
        root = self.control / f"run{worker.index}"
        args = fit_args(self.spec, worker.job.run, root)
        if worker.compiled:
            args += ["--model.compile", "true"]
        cmd = [sys.executable, str(WORKER), "--control", str(self.control), "--index", str(worker.index)]
        cmd += ["--launched", repr(time.time()), "--warmup", str(self.settings.probe_warmup_steps), "--", *args]
        env = dict(self.env, OMP_NUM_THREADS=str(threads))
        log = open(self.control / f"worker{worker.index}.log", "w")
        worker.proc = subprocess.Popen(
            cmd, cwd=self.spec["folder"], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def _signal(self, worker: Worker, sig: int) -> None:
        if worker.proc is not None and worker.proc.poll() is None:
            try:
                os.killpg(worker.proc.pid, sig)
            except ProcessLookupError:
                pass

    def _poll_files(self, workers: list[Worker]) -> None:
        for w in workers:
            ready, result = self.control / f"ready-{w.index}.json", self.control / f"result-{w.index}.json"
            if w.ready is None and ready.exists():
                w.ready = json.loads(ready.read_text())
            if w.result is None and result.exists():
                w.result = json.loads(result.read_text())

    def launch_compile(self) -> None:
        if self.compile is not None:
            self.t_compile = time.time()
            self._launch(self.compile, max(1, (os.cpu_count() or 1) // 2))

    def launch_eager(self) -> None:
        self.t_eager = time.time()
        threads = max(1, (os.cpu_count() or 1) // len(self.eager))
        for w in self.eager:
            self._launch(w, threads)

    def kill_all(self) -> None:
        for w in [*self.eager, *([self.compile] if self.compile else [])]:
            self._signal(w, signal.SIGCONT)
            self._signal(w, signal.SIGKILL)

    def _wait(self, workers: list[Worker], what: str, until: float) -> None:
        while time.time() < until:
            self._poll_files(workers)
            if all(getattr(w, what) is not None or w.proc.poll() is not None for w in workers):
                return
            time.sleep(0.1)
        self._poll_files(workers)

    def _go(self, worker: Worker, windows: list) -> None:
        path = self.control / f"go-{worker.index}.json"
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps({"windows": windows}))
        os.replace(tmp, path)

    # --- measurement -----------------------------------------------------------------------
    def measure(self, deadline: float) -> dict:
        s = self.settings
        self._wait(self.eager, "ready", min(deadline, self.t_eager + s.probe_ready_s))
        if self.compile is not None and self.compile.ready is None:
            self._signal(self.compile, signal.SIGSTOP)
            self.compile.stopped.append([time.time(), 0.0])
        ready = [w for w in self.eager if w.ready is not None and w.proc.poll() is None]
        phases = self._phases(ready)
        t = time.time() + 0.5
        windows = {w.index: [] for w in ready}
        for name, members in phases:
            for w in members:
                windows[w.index].append([name, t, t + s.probe_phase_s])
            t += s.probe_phase_s + 0.3
        for w in ready:
            self._go(w, windows[w.index])
        self.log(f"probe: {len(ready)}/{len(self.eager)} workers ready; {len(phases)} phases of {s.probe_phase_s} s")
        self._wait(ready, "result", t + 30)
        for w in self.eager:
            self._signal(w, signal.SIGKILL)
        return self._summary(phases, self._measure_compile(deadline))

    def _phases(self, ready: list[Worker]) -> list[tuple[str, list[Worker]]]:
        by_index = {w.index: w for w in ready}
        phases = []
        zero = by_index.get(0)
        if zero is not None:
            phases.append(("alone:packed", [zero]))
        baseline = next((w for w in ready if w.kind == "per_byte"), None)
        if baseline is not None:
            phases.append(("alone:per_byte", [baseline]))
        for level in sorted(set(self.settings.levels)):
            members = [by_index.get(i) for i in range(level)]
            if level > 1 and all(members):
                phases.append((f"level:{level}", members))
        return phases

    def compile_budget_s(self) -> tuple[float, float] | None:
        """(seconds of compiling beyond an eager worker's start-up, that start-up): at most
        ``compile_cap_s``, and never more than a whole run's eager steps, the most compile can save."""
        zero = self.eager[0]
        alone = ((zero.result or {}).get("phases") or {}).get("alone:packed")
        if zero.ready is None or not alone:
            return None
        whole = alone["step_s"] * zero.job.steps
        ready_s = zero.ready["startup_s"] + zero.ready["val_pass_s"] + zero.ready["warmup_s"]
        return min(self.settings.compile_cap_s, whole), ready_s

    def _measure_compile(self, deadline: float) -> dict | None:
        w = self.compile
        if w is None:
            return None
        budget = self.compile_budget_s()
        if w.stopped and not w.stopped[-1][1]:
            self._signal(w, signal.SIGCONT)
            w.stopped[-1][1] = time.time()
        if budget is None:
            self._signal(w, signal.SIGKILL)
            return {"ready": False, "cap_s": 0.0, "active_s": w.active_s(self.t_compile, time.time())}
        cap, eager_ready = budget
        while w.ready is None and w.proc.poll() is None and time.time() < deadline:
            if w.active_s(self.t_compile, time.time()) >= eager_ready + cap:
                break
            self._poll_files([w])
            time.sleep(0.1)
        if w.ready is None:
            self._signal(w, signal.SIGKILL)
            return {"ready": False, "cap_s": cap, "active_s": w.active_s(self.t_compile, time.time())}
        t = time.time() + 0.3
        self._go(w, [["alone:compiled", t, t + self.settings.probe_phase_s]])
        self._wait([w], "result", t + self.settings.probe_phase_s + 30)
        self._signal(w, signal.SIGKILL)
        r = w.ready
        sanity_and_warmup = w.active_s(r["t_sanity_start"], r["t_ready"])
        return {"ready": True, "cap_s": cap, "sanity_and_warmup_s": sanity_and_warmup}

    def _summary(self, phases: list, compiled: dict | None) -> dict:
        out = {"workers": [w.describe() for w in self.eager], "phases": {}, "levels": {}}
        if self.compile is not None:
            out["compile_worker"] = self.compile.describe()
        for name, members in phases:
            rows = []
            for w in members:
                r = (w.result or {}).get("phases", {}).get(name)
                if r and r["steps"] > 0:
                    rows.append({"index": w.index, "arm": w.job.run["door"], "kind": w.kind} | r)
                    rows[-1]["flops_per_batch"] = w.ready.get("flops_per_batch")
            out["phases"][name] = rows
        alone = {k: out["phases"].get(f"alone:{k}", [{}])[0].get("step_s") for k in ("packed", "per_byte")}
        if not alone["packed"]:
            out["error"] = "the zero door alone was not measured: see the worker logs"
            return out
        alone = {k: v for k, v in alone.items() if v}
        levels = {1: out["phases"]["alone:packed"]}
        levels |= {int(n.split(":")[1]): rows for n, rows in out["phases"].items() if n.startswith("level:") and rows}
        level, rates = choose_level(levels, alone)
        out |= {"alone": alone, "throughput": rates, "level": level, "step_s": step_times(levels, alone, level)}
        zero = self.eager[0].ready
        out["startup_s"] = max(w.ready["startup_s"] for w in self.eager if w.ready)
        out["val_pass_s"] = max(w.ready["val_pass_s"] for w in self.eager if w.ready)
        steps = self.eager[0].job.steps
        if compiled is not None:
            cost = compiled_s = None
            if compiled["ready"]:
                cost = compiled["sanity_and_warmup_s"] - (zero["val_pass_s"] + zero["warmup_s"])
                rows = (self.compile.result or {}).get("phases", {}).get("alone:compiled")
                compiled_s = rows["step_s"] if rows and rows["steps"] > 0 else None
            decision = compile_decision(alone["packed"], compiled_s, cost, steps, compiled["cap_s"])
            out["compile"] = compiled | decision | {"compile_cost_s": cost, "compiled_step_s": compiled_s}
            if decision["pays"]:
                ratio = compiled_s / alone["packed"]
                out["step_s"] = {k: v * ratio for k, v in out["step_s"].items()}
                out["startup_s"] += cost
        return out


def mfu(row: dict, peak: float) -> float | None:
    """Model FLOPs utilization of one worker in one phase: its training FLOPs per second over
    the measured dense matmul peak."""
    if not row.get("flops_per_batch") or not peak:
        return None
    return row["flops_per_batch"] / row["step_s"] / peak
