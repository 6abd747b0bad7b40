"""The GPU campaign in one call: install the bundle, check the device, run the gpu-marked tests,
measure throughput (probe.py), then the published table's runs, planned to end in the budget.

Stages, each recorded in ``campaign.json`` as it ends (results.py rewrites every returned file
whole, so a kill at any moment leaves valid ones):

  install  the bundle's wheels into WORK/site, its corpus into WORK/cache (bundle.py)
  device   name, memory, bf16, the dense matmul peak (device.py)
  data     the data module built once, so the runs find every cache built
  tests    ``pytest -m gpu tests/gpu`` — while the probe's workers start (they are not timed yet)
  probe    step times alone and several at once, compile or not (probe.py)
  runs     the queue (plan.py) through runner.py, as many at once as the probe chose
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

import yaml

from holozero.commands.sweep import run_id

from . import bundle, device, results
from .plan import Rates, queue, write_spec
from .probe import Probe
from .runner import Runner
from .settings import DRY_RUN, PUBLISHED

ROOT = Path(__file__).resolve().parents[2]


class Campaign:
    def __init__(self, settings, budget_s: float, out: Path, work: Path, bundle_dir: Path, dry_run: bool):
        self.settings, self.out, self.work, self.bundle_dir, self.dry_run = settings, out, work, bundle_dir, dry_run
        self.t0 = time.time()
        self.deadline = self.t0 + budget_s
        self.end_runs = self.deadline - settings.reserve_s  # the last files are written after it
        self.lock = threading.Lock()
        out.mkdir(parents=True, exist_ok=True)
        work.mkdir(parents=True, exist_ok=True)
        self.logfile = open(out / "campaign.log", "a")
        self.results: dict = {
            "campaign": {
                "settings": settings.name,
                "precision": settings.precision,
                "budget_s": budget_s,
                "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "argv": sys.argv,
                "work": str(work),
                "stage": "start",
                "finished": False,
            }
        }
        self.runner: Runner | None = None

    def log(self, message: str) -> None:
        line = f"[{time.time() - self.t0:6.1f} s] {message}"
        print(line, flush=True)
        self.logfile.write(line + "\n")
        self.logfile.flush()

    def save(self, stage: str | None = None, archive: bool = False) -> None:
        with self.lock:
            c = self.results["campaign"]
            c["stage"] = stage or c["stage"]
            c["elapsed_s"] = time.time() - self.t0
            if self.runner is not None:
                # copies: the runner's threads go on filling their records while this is written
                self.results["runs"] = [dict(r) for r in list(self.runner.records.values())]
            if archive and (self.work / "spec.yaml").exists():
                try:
                    c["archive_bytes"] = results.archive(self.work, self.out)
                except Exception as e:  # over the return limit: the previous archive stays
                    c["archive_error"] = str(e)
            results.write(self.results, self.work, self.out)

    # --- stages ------------------------------------------------------------------------------
    def run(self) -> int:
        s = self.settings
        try:
            facts, self.env = bundle.install(self.bundle_dir, self.work, self.dry_run)
            self.results["install"] = facts
            self.log(f"install: {len(facts.get('wheels', []))} wheels; {facts.get('note', 'on the path')}")
            self.save("install")
            self.results["device"] = dev = device.check(s.device, s.precision)
            self.log(
                f"device: {dev['device']}, peak {dev['peak_matmul_flops'] / 1e12:.1f} TFLOP/s ({dev['peak_dtype']})"
            )
            self.save("device")
            spec = write_spec(s, self.work)
            jobs = queue(spec, s)
            runs = [run_id(j.run) for j in jobs]
            (self.work / "spec.yaml").write_text(yaml.safe_dump(spec | {"runs": runs}, sort_keys=False))
            self.results["plan"] = {"queue": [{"id": j.id, "schedule": j.schedule, "steps": j.steps} for j in jobs]}
            self.prepare_data(spec)
            self.save("data")
            probe = Probe(s, spec, jobs, self.work, self.env, self.log)
            try:
                probe.launch_compile()
                probe.launch_eager()  # they start (imports, data, warm-up) while the tests run
                self.results["tests"] = self.gpu_tests()
                self.save("tests")
                self.results["probe"] = measured = probe.measure(self.end_runs)
            finally:
                probe.kill_all()
            if "error" in measured:
                self.log(f"probe: {measured['error']}; planning from the fallback priors")
                measured |= {"level": s.fallback_slots, "step_s": dict(s.fallback_step_s), "fallback": True}
                measured |= {"startup_s": s.fallback_startup_s, "val_pass_s": s.fallback_val_pass_s}
            self.save("probe")
            self.log(f"probe: {measured['level']} runs at once; step s {measured['step_s']}")
            # test and evaluate: two more process start-ups side by side on a busy machine, then their
            # work; twice the measured start-up at least, until a finished run measures it
            post = max(s.post_prior_s, 2 * measured["startup_s"])
            rates = Rates(measured["step_s"], measured["startup_s"], measured["val_pass_s"], post)
            compiled = bool((measured.get("compile") or {}).get("pays"))
            self.results["plan"] |= {"slots": measured["level"], "compile": compiled}
            self.runner = Runner(spec, self.work, self.env, s.device, compiled, self.log)

            def changed() -> None:
                self.results["plan"]["rates"] = {k: v for k, v in vars(rates).items()}
                self.save("runs", archive=True)

            self.runner.run(jobs, rates, measured["level"], s.safety, self.end_runs, changed)
            self.results["campaign"]["finished"] = True
            self.save("done", archive=True)
            done = sum(r.get("status") == "done" for r in self.results.get("runs", []))
            self.log(f"campaign: {done} runs done; files in {self.out}")
            return 0
        except Exception:
            self.results["error"] = traceback.format_exc()[-4000:]
            self.log(f"campaign: error\n{self.results['error']}")
            self.save("error", archive=True)
            return 1

    def prepare_data(self, spec: dict) -> None:
        """Every cache of the runs' data built once, before processes start in parallel."""
        code = "import sys; from holozero.commands.evaluate import build_data; build_data(sys.argv[1])"
        t0 = time.time()
        done = subprocess.run(
            [sys.executable, "-c", code, spec["base"][0]], env=self.env, capture_output=True, text=True, cwd=self.work
        )
        if done.returncode != 0:
            raise RuntimeError(f"building the data failed:\n{done.stderr[-3000:]}")
        self.results["data"] = {"seconds": time.time() - t0}
        self.log(f"data: built in {time.time() - t0:.1f} s")

    def gpu_tests(self) -> dict:
        # tests/conftest.py needs a dev-only oracle the image lacks: stop conftest lookup at tests/gpu
        cmd = [sys.executable, "-m", "pytest", "-m", "gpu", "tests/gpu", "-q", "-p", "no:cacheprovider"]
        cmd += ["--confcutdir", "tests/gpu", "--rootdir", str(ROOT)]
        t0 = time.time()
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        limit = min(self.settings.tests_timeout_s, max(1.0, self.end_runs - time.time()))
        try:
            output, _ = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            output = proc.communicate()[0] + f"\ncampaign: killed after {limit:.0f} s"
        lines = [line for line in output.strip().splitlines() if line.strip()]
        summary = lines[-1] if lines else ""
        self.log(f"tests: {summary} ({time.time() - t0:.0f} s)")
        return {
            "command": " ".join(cmd[1:]),
            "returncode": proc.returncode,
            "summary": summary,
            "seconds": time.time() - t0,
            "output_tail": output[-4000:],
        }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="scripts/gpu_campaign.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--budget-s", type=float, default=480.0, help="wall seconds from start to the last file written")
    p.add_argument("--out", help="where the returned files go ($OUT on the lent machine)")
    p.add_argument("--work", help="runs, checkpoints, caches (default: a new folder under the temp dir)")
    p.add_argument("--bundle", default=str(ROOT / "gpu_bundle"), help="scripts/gpu_bundle.sh's folder")
    p.add_argument("--dry-run", action="store_true", help="the same path on CPU: tiny body, few steps")
    p.add_argument("--precision", help="--trainer.precision of the fits (default: bf16-mixed; dry run 32-true)")
    p.add_argument("--publish", metavar="DIR", help="turn a returned DIR into --page instead of running")
    p.add_argument("--page", default=str(ROOT / "docs" / "results" / "gpu_published.md"))
    args = p.parse_args(argv)
    if args.publish:
        from .publish import publish

        print(f"gpu_campaign: wrote {publish(Path(args.publish), Path(args.page))}")
        return 0
    if not args.out:
        p.error("--out is required (or --publish DIR)")
    if args.budget_s <= 0:
        p.error(f"--budget-s must be > 0, got {args.budget_s}")
    settings = (DRY_RUN if args.dry_run else PUBLISHED).with_precision(args.precision)
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="holozero-campaign-"))
    campaign = Campaign(
        settings, args.budget_s, Path(args.out).resolve(), work.resolve(), Path(args.bundle), args.dry_run
    )
    return campaign.run()


if __name__ == "__main__":
    sys.exit(main())
