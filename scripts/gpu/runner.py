"""Runs the queued jobs, several at once, each only if it is predicted to finish in time.

A run is ``holozero sweep``'s own commands for it (``sweep.commands``: fit, then test on the
last checkpoint) plus the whole-test-split evaluate on the device (side by side with the
test: both only read the checkpoint), and it lands in the sweep
layout (``WORK/runs/<id>/`` with ``command.txt``, its log and ``status.json``), so ``holozero
report`` reads the campaign as any sweep. Test and evaluate score in fp32. Every command is
killed at the deadline (its process group), so nothing outlives the budget; a killed or
failed run is recorded as failed, with its log, and never retried here.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from holozero.commands.sweep import commands, last_checkpoint

from .plan import Job, Rates

# last.ckpt only, weights only: test and evaluate read the weights and nothing here resumes; a
# ~25M body's full checkpoint (AdamW state included) is ~300 MB, written at every validation
CHECKPOINT = ["--checkpoint.save_top_k", "0", "--checkpoint.save_weights_only", "true"]


def run_commands(spec: dict, job: Job, work: Path, device: str, compiled: bool) -> list[list[str]]:
    fit, test = commands(spec, job.run, work)[:2]
    root = work / "runs" / job.id
    fit = fit + CHECKPOINT + ["--model.compile", "true" if compiled else "false"]
    test = test + CHECKPOINT + ["--trainer.precision", "32-true", "--model.compile", "false"]  # scored in fp32
    evaluate = [
        sys.executable,
        "-m",
        "holozero",
        "evaluate",
        "--device",
        device,
        "--ckpt_path",
        str(last_checkpoint(root)),
    ]
    evaluate += ["--no_progress", "--out", str(root / "evaluate.json")]
    return [fit, test, evaluate]


class Runner:
    def __init__(self, spec: dict, work: Path, env: dict, device: str, compiled: bool, log):
        self.spec, self.work, self.env, self.device, self.compiled, self.log = spec, work, env, device, compiled, log
        self.records: dict[str, dict] = {}  # id -> what happened, in start order
        self._lock = threading.Lock()

    def _execute(self, job: Job, record: dict, deadline: float, on_change) -> None:
        root = self.work / "runs" / job.id
        root.mkdir(parents=True, exist_ok=True)
        cmds = run_commands(self.spec, job, self.work, self.device, self.compiled)
        (root / "command.txt").write_text(
            "\n".join([f"cd {shlex.quote(self.spec['folder'])}", *map(shlex.join, cmds)]) + "\n"
        )
        fit, test, evaluate = cmds
        # test and evaluate both only read last.ckpt: they run side by side (each is mostly a
        # process start-up and data setup), so a run's tail costs the longer of the two
        with open(root / "attempt1.log", "w") as log, open(root / "evaluate.log", "w") as evaluate_log:
            codes = {"fit": self._timed(fit, log, deadline, record, "fit")}
            if codes["fit"] == 0:

                def scored() -> None:
                    codes["evaluate"] = self._timed(evaluate, evaluate_log, deadline, record, "evaluate")

                tail = threading.Thread(target=scored)
                tail.start()
                codes["test"] = self._timed(test, log, deadline, record, "test")
                tail.join()
        failed = [name for name in ("fit", "test", "evaluate") if codes.get(name, 0) != 0]
        ok = not failed
        if failed:
            record["failed_in"], record["returncode"] = failed[0], codes[failed[0]]
        record["status"] = "done" if ok else "failed"
        record["ended"] = time.time()
        state = {"status": record["status"], "attempts": 1, "run": job.run}
        (root / "status.json").write_text(json.dumps(state | {k: v for k, v in record.items() if k.endswith("_s")}))
        on_change(job, record)

    def _timed(self, cmd: list[str], log, deadline: float, record: dict, name: str) -> int:
        t0 = time.time()
        code = self._call(cmd, log, deadline)
        record[f"{name}_s"] = time.time() - t0
        return code

    def _call(self, cmd: list[str], log, deadline: float) -> int:
        proc = subprocess.Popen(
            cmd, cwd=self.spec["folder"], env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            return proc.wait(timeout=max(0.0, deadline - time.time()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            log.write(f"\ncampaign: killed at the deadline ({shlex.join(cmd[:4])} ...)\n")
            return -signal.SIGKILL

    def run(self, jobs: list[Job], rates: Rates, slots: int, safety: float, deadline: float, on_change) -> None:
        """Start jobs in queue order while a slot is free and the job is predicted to end before
        ``deadline``; a job that does not fit is passed over for a later, shorter one."""
        pending, running = list(jobs), {}
        threads = max(1, (os.cpu_count() or 1) // max(slots, 1))
        self.env = dict(self.env, OMP_NUM_THREADS=str(threads))

        def finished(job: Job, record: dict) -> None:
            with self._lock:
                if record["status"] == "done":  # test and evaluate ran side by side: the longer counts
                    rates.observe(job, record["fit_s"], max(record["test_s"], record["evaluate_s"]))
            on_change()

        while True:
            with self._lock:
                for t in [j for j, th in running.items() if not th.is_alive()]:
                    del running[t]
                while len(running) < slots:
                    now = time.time()
                    job = next((j for j in pending if now + safety * rates.predict_s(j) <= deadline), None)
                    if job is None:
                        break
                    pending.remove(job)
                    predicted = rates.predict_s(job)
                    record = {"id": job.id, "run": job.run, "schedule": job.schedule, "steps": job.steps}
                    record |= {"status": "running", "started": now, "predicted_s": predicted, "slots": slots}
                    self.records[job.id] = record
                    th = threading.Thread(target=self._execute, args=(job, record, deadline, finished), daemon=True)
                    running[job.id] = th
                    th.start()
                    self.log(f"run {job.id}: started, predicted {predicted:.0f} s ({len(running)} running)")
                    on_change()
            if not running:
                break
            time.sleep(0.5)
        for job in pending:
            self.records.setdefault(job.id, {"id": job.id, "run": job.run, "schedule": job.schedule})
            self.records[job.id].setdefault("status", "not started: predicted past the deadline")
