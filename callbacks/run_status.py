"""How a fit ended, told honestly: ``fit_status.json`` in the run folder says whether the run
reached the step its budget asks for, and a run stopped by a signal is saved, named and
never mistaken for a finished one.

- The last step is always validated (and so checkpointed): reaching ``max_steps`` asks
  Lightning to stop, which validates the step it stops at, as a budget stop already does.
- SIGTERM (a preemption, ``timeout``, a closing terminal) and SIGINT (Ctrl-C) stop the run at
  the end of the current training step, so no optimizer step is cut in half: the step is
  validated and checkpointed as a last step is (a signal during a validation lets it finish),
  and ``--ckpt_path last`` resumes from there exactly. Before training starts (setup, the
  sanity check) Lightning's own SIGTERM handling applies: the run stops at the end of its first
  step, saved. A second signal stops at once, nothing saved (the last checkpoint stays). The
  command then prints the step and the resume command and exits 143 (SIGTERM) or 130 (SIGINT)
  — ``holozero.commands.cli`` reads ``RunStatus.stopped``.
- ``fit_status.json``: ``state`` (``finished`` / ``stopped`` / ``failed``), the ``step``
  reached, the ``target_step`` (``max_steps``, or the step a FLOPs / bytes budget ends at),
  why it ended, the budget and what was spent, the checkpoint and the resume command. Sweeps
  and reports read it; ``holozero report`` refuses a run that is not ``finished``.
"""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path

import torch
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.utilities import rank_zero_only
from lightning.pytorch.utilities.exceptions import SIGTERMException

STATUS_FILE = "fit_status.json"
EXIT_CODES = {"SIGTERM": 143, "SIGINT": 130}  # 128 + the signal's number, as a shell reports it


class RunStatus(Callback):
    def __init__(self):
        self.stopped: dict | None = None  # set when a signal stopped the run: read by the CLI
        self.resume_command: str | None = None  # set by the CLI: how to continue this run
        self._pending: str | None = None  # the signal asking this run to stop
        self._immediate = False  # a second signal: stopped wherever it was, nothing saved
        self._previous: dict = {}

    @property
    def stop_requested(self) -> str | None:
        """The signal that asked this run to stop, if one has."""
        return self._pending

    # --- the last step is validated -----------------------------------------------------------
    def on_train_batch_end(self, trainer, lm, outputs, batch, batch_idx) -> None:
        if 0 < trainer.max_steps <= trainer.global_step or self._pending:
            trainer.should_stop = True  # Lightning validates (and so checkpoints) the step it stops at

    def on_validation_end(self, trainer, lm) -> None:
        if self._pending and trainer.state.fn == "fit" and not trainer.sanity_checking:
            trainer.should_stop = True  # a signal during validation: stop once it is scored and saved

    # --- signals --------------------------------------------------------------------------------
    def on_train_start(self, trainer, lm) -> None:
        """From here on, SIGTERM and SIGINT ask for a stop at the end of the step (Lightning's own
        SIGTERM handler, which covers setup and the sanity check, raises mid-validation)."""
        if threading.current_thread() is not threading.main_thread() or trainer.received_sigterm:
            return
        for sig in (signal.SIGTERM, signal.SIGINT):
            self._previous[sig] = signal.signal(sig, self._on_signal)

    def _on_signal(self, signum, frame) -> None:
        name = signal.Signals(signum).name
        if self._pending:  # asked twice: stop now, wherever the run is
            self._pending, self._immediate = name, True
            raise SIGTERMException() if name == "SIGTERM" else KeyboardInterrupt
        self._pending = name

    def teardown(self, trainer, lm, stage: str) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous = {}

    def on_exception(self, trainer, lm, exception: BaseException) -> None:
        if trainer.state.fn != "fit":
            return
        if not isinstance(exception, (SIGTERMException, KeyboardInterrupt)):
            self.write(trainer, lm, "failed", f"{type(exception).__name__}: {exception}")
            return
        name = self._pending or ("SIGTERM" if isinstance(exception, SIGTERMException) else "SIGINT")
        ckpt = trainer.checkpoint_callback
        saved = None
        # Lightning's SIGTERMException (before our handlers took over) is raised between
        # training steps: a clean state to save. A second signal may land mid-step: not saved.
        clean = isinstance(exception, SIGTERMException) and not self._immediate
        if clean and trainer.training and not trainer.sanity_checking and ckpt is not None and ckpt.dirpath:
            saved = str(Path(ckpt.dirpath) / f"{ckpt.CHECKPOINT_NAME_LAST}{ckpt.FILE_EXTENSION}")
            ckpt.last_model_path = saved
            trainer.save_checkpoint(saved)
        self._stop(trainer, lm, name, saved)

    def _stop(self, trainer, lm, name: str, saved: str | None) -> None:
        ckpt = trainer.checkpoint_callback
        if saved is None and ckpt is not None and ckpt.last_model_path and Path(ckpt.last_model_path).is_file():
            saved = ckpt.last_model_path
        self.stopped = {"signal": name, "code": EXIT_CODES[name], "step": trainer.global_step, "checkpoint": saved}
        if saved:
            self.stopped["checkpoint_step"] = checkpoint_step(saved)
        self.write(trainer, lm, "stopped", f"{name} at step {trainer.global_step}")

    # --- the status file -----------------------------------------------------------------------
    def on_fit_end(self, trainer, lm) -> None:
        target = target_step(trainer, lm)
        short = target is not None and trainer.global_step < target
        if short and self._pending:
            self._stop(trainer, lm, self._pending, None)
        elif short:
            self.write(trainer, lm, "stopped", f"ended at step {trainer.global_step} before its target step {target}")
        else:
            self.write(trainer, lm, "finished", budget_reason(trainer) or "max_steps")

    @rank_zero_only
    def write(self, trainer, lm, state: str, reason: str) -> None:
        folder = trainer.log_dir
        if folder is None:
            return
        budget = next((c for c in trainer.callbacks if type(c).__name__ == "BudgetStop"), None)
        ckpt = trainer.checkpoint_callback
        status = {
            "state": state,
            "step": trainer.global_step,
            "target_step": target_step(trainer, lm),
            "reason": reason,
            "budget": None if budget is None else {k: getattr(budget, k) for k in ("flops", "seconds", "train_bytes")},
            "spent": None if budget is None else dict(budget.spent),
            "flops_per_batch": getattr(lm, "flops_per_batch", None),
            "checkpoint": (self.stopped or {}).get("checkpoint") or (ckpt.last_model_path if ckpt else None) or None,
            "resume": self.resume_command if state != "finished" else None,
        }
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / STATUS_FILE).write_text(json.dumps(status, indent=1) + "\n")


def target_step(trainer, lm) -> int | None:
    """The step this run is asked to reach: ``max_steps``, or the step a FLOPs or bytes budget
    ends it at when that comes first; None when only time or epochs bound it."""
    targets = [t for t in (trainer.max_steps if trainer.max_steps > 0 else None, lm.schedule_horizon) if t]
    return min(targets) if targets else None


def budget_reason(trainer) -> str | None:
    budget = next((c for c in trainer.callbacks if type(c).__name__ == "BudgetStop"), None)
    if budget is None or not budget.active:
        return None
    if budget.seconds is not None and budget.spent["seconds"] >= budget.seconds:
        return "budget (seconds)"
    if budget.stop_step is not None and trainer.global_step >= budget.stop_step:
        return "budget (" + ", ".join(k for k in ("flops", "train_bytes") if getattr(budget, k) is not None) + ")"
    return None


def checkpoint_step(path: str | Path) -> int | None:
    """The training step a checkpoint was saved at."""
    try:
        return int(torch.load(path, map_location="cpu", weights_only=True, mmap=True)["global_step"])
    except Exception:
        return None


def read_status(run_dir: str | Path) -> dict | None:
    """The ``fit_status.json`` of a run folder, or None when it has none."""
    path = Path(run_dir) / STATUS_FILE
    return json.loads(path.read_text()) if path.is_file() else None
