"""One worker of the throughput probe: a real ``holozero fit`` of one run (the same config,
door, precision and Lightning loop), timed in phases that the coordinator (probe.py) sets.

    python scripts/gpu/probe_worker.py --control DIR --index I --launched T -- FIT ARGS...

It builds the run exactly as ``holozero fit`` does (HoloCLI, run=False), then fits with a
``PhaseClock``: one full validation pass as the sanity check (timed), ``--warmup`` training
steps (timed: with ``--model.compile true`` this is where compiling happens), then it writes
``ready-I.json`` and waits for ``go-I.json``: absolute time windows in which it counts its
steps (synchronizing the device at each end). Outside its windows it sleeps, so a phase runs
exactly the workers named for it. After its last window it writes ``result-I.json`` and
exits at once (no checkpoint is written).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from lightning.pytorch.callbacks import Callback  # noqa: E402


def write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)  # the coordinator never reads a half-written file


class PhaseClock(Callback):
    def __init__(self, control: Path, index: int, launched: float, warmup: int):
        self.control, self.index, self.launched, self.warmup = control, index, launched, warmup
        self.facts: dict = {"index": index, "pid": os.getpid()}
        self.steps = 0
        self.windows: list = []
        self.window = None  # (name, start, end) being counted
        self.results: dict = {}

    def _now(self, lm) -> float:
        if lm.device.type == "cuda":
            torch.cuda.synchronize(lm.device)
        return time.time()

    def on_sanity_check_start(self, trainer, lm) -> None:
        self.facts["t_sanity_start"] = time.time()
        self.facts["startup_s"] = self.facts["t_sanity_start"] - self.launched
        self._t = self._now(lm)

    def on_sanity_check_end(self, trainer, lm) -> None:
        self.facts["val_pass_s"] = self._now(lm) - self._t

    def on_train_start(self, trainer, lm) -> None:
        self._t = self._now(lm)

    def on_train_batch_end(self, trainer, lm, outputs, batch, batch_idx) -> None:
        self.steps += 1
        if self.window is None:
            if self.steps == self.warmup:
                self.facts["warmup_s"] = self._now(lm) - self._t
                self.facts["flops_per_batch"] = getattr(lm, "flops_per_batch", None)
                self.facts["compile"] = bool(lm.hparams.compile)
                self.facts["t_ready"] = time.time()
                write_json(self.control / f"ready-{self.index}.json", self.facts)
                go = self.control / f"go-{self.index}.json"
                while not go.exists():
                    time.sleep(0.02)
                self.windows = json.loads(go.read_text())["windows"]
                self._next(lm)
            return
        name, start, end = self.window
        now = time.time()
        if now >= end:
            now = self._now(lm)
            n = self.steps - self._first
            self.results[name] = {"steps": n, "elapsed_s": now - self._t0, "step_s": (now - self._t0) / max(n, 1)}
            self._next(lm)

    def _next(self, lm) -> None:
        if not self.windows:
            write_json(self.control / f"result-{self.index}.json", {"index": self.index, "phases": self.results})
            sys.stdout.flush()
            os._exit(0)  # done: no checkpoint, no teardown
        self.window = self.windows.pop(0)
        time.sleep(max(0.0, self.window[1] - time.time()))
        self._t0, self._first = self._now(lm), self.steps


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--control", required=True)
    p.add_argument("--index", type=int, required=True)
    p.add_argument("--launched", type=float, required=True, help="time.time() when the coordinator started it")
    p.add_argument("--warmup", type=int, default=30)
    p.add_argument("fit", nargs=argparse.REMAINDER, help="holozero fit arguments after --")
    args = p.parse_args()
    fit = args.fit[1:] if args.fit[:1] == ["--"] else args.fit

    from datamodules.base import WindowDataModule
    from holozero.commands.cli import HoloCLI
    from models import ByteLM

    never = str(10**9)  # no validation inside the timed phases: the sanity pass is the one timed
    overrides = ["--trainer.max_steps", never, "--trainer.val_check_interval", never]
    overrides += ["--trainer.num_sanity_val_steps", "-1", "--trainer.logger", "false"]
    cli = HoloCLI(ByteLM, WindowDataModule, subclass_mode_data=True, args=fit + overrides, run=False)
    cli.trainer.callbacks.append(PhaseClock(Path(args.control), args.index, args.launched, args.warmup))
    cli.trainer.fit(cli.model, cli.datamodule)
    raise SystemExit(f"probe worker {args.index}: training ended before its phases did")


if __name__ == "__main__":
    main()
