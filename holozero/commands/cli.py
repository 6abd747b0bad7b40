"""``holozero fit | validate | test | predict``: the LightningCLI of holozero.

    holozero fit --config configs/zero_k8.yaml --config configs/doors/hsl_proj.yaml --seed_everything 1
    holozero fit --config configs/quickstart.yaml --ckpt_path last      # resume this command's run

K is given once, as ``data.init_args.K``, and linked into the door; the door's width is
linked from the body's ``dim``. Precision defaults to bf16-mixed on a GPU that supports it
and 32-true on CPU (``--trainer.precision bf16-mixed`` trains on CPU's AVX-512 BF16 too);
validate / test / predict always score in float32, whatever the training precision. Logs go
to TensorBoard under ``lightning_logs/``.

Flags are never abbreviated (a prefix of a flag is an error naming the closest flag).
``--ckpt_path last`` resumes the one run under the root dir whose saved model and data
sections equal this command's (see ``runs.resolve_last``). validate / test / predict of a
checkpoint write into the checkpoint's own run folder, at the checkpoint's step, with their
config saved beside the run's as ``<command>_config.yaml``.
"""

from __future__ import annotations

import argparse
import sys
import warnings

import torch
import yaml
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI
from lightning.pytorch.utilities.exceptions import SIGTERMException

from callbacks import (
    AttributionMonitor,
    BindingGapMonitor,
    BudgetStop,
    ByteThroughputMonitor,
    FitSummary,
    LastAndBestCheckpoint,
    ProbeSuite,
    RunFacts,
    RunStatus,
)
from callbacks.run_status import EXIT_CODES, read_status
from datamodules.base import WindowDataModule
from holozero.checkpoints import check_compatible, read_checkpoint
from models import ByteLM

from .errors import UsageError, suggest
from .metrics_table import format_metrics
from .parse_errors import explain
from .quiet import quiet_known_noise
from .runs import in_a_run, logger_for, resolve_last, run_dir_of
from .switches import switch_logger

EVALUATIONS = ("validate", "test", "predict")


def default_precision() -> str:
    if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return "bf16-mixed"
    return "32-true"


def saved_dirpath(ckpt: dict) -> str | None:
    """The checkpoint folder as the run's ModelCheckpoint recorded it."""
    states = ckpt.get("callbacks", {}).values()
    return next((s["dirpath"] for s in states if isinstance(s, dict) and s.get("dirpath")), None)


def logging_step(ckpt: dict) -> int:
    """Where an evaluation of a checkpoint is logged: its training step, the one numbering of
    validation, the checkpoint and the fit summary (a checkpoint written at a validation by
    holozero before that numbering recorded Lightning's logging counter one lower)."""
    if "global_step" in ckpt:
        return int(ckpt["global_step"])
    loops = ckpt.get("loops", {}).get("fit_loop", {}).get("epoch_loop.state_dict", {})
    return int(loops.get("_batches_that_stepped", 0))


class HoloParser(LightningArgumentParser):
    """Every parser of the CLI, nested ones included (jsonargparse builds those from the
    parent's class): no abbreviated flags, errors raised (not a usage dump), and class
    switches that drop settings reported (``switches.py``)."""

    def __init__(self, *args, **kwargs):
        kwargs["allow_abbrev"] = False
        kwargs["exit_on_error"] = False
        kwargs.setdefault("logger", switch_logger())
        super().__init__(*args, **kwargs)


class HoloCLI(LightningCLI):
    """LightningCLI with the door linked to the data (K) and the body (dim), holozero's
    callbacks as groups, and the behaviour described at the top of this module."""

    def __init__(self, *args, **kwargs):
        argv = kwargs.get("args")
        argv = sys.argv[1:] if argv is None else argv
        # build the parser of the one subcommand asked for: each costs ~0.25 s to build
        self.only = argv[0] if isinstance(argv, list) and argv and argv[0] in LightningCLI.subcommands() else None
        kwargs.setdefault("parser_class", HoloParser)
        quiet_known_noise()
        self._argv = [str(a) for a in argv] if isinstance(argv, list) else None
        self._ckpt: dict | None = None  # what is needed of the checkpoint, read once
        self._eval_verbose = True
        super().__init__(*args, **kwargs)

    def subcommands(self) -> dict[str, set[str]]:
        return {k: v for k, v in LightningCLI.subcommands().items() if self.only in (None, k)}

    def init_parser(self, **kwargs) -> LightningArgumentParser:
        kwargs.setdefault("prog", "holozero")
        return super().init_parser(**kwargs)

    def add_arguments_to_parser(self, parser) -> None:
        parser.link_arguments("data.init_args.K", "model.door.init_args.K", apply_on="parse")
        parser.link_arguments("model.body.init_args.dim", "model.door.init_args.dim", apply_on="parse")
        parser.add_lightning_class_args(LastAndBestCheckpoint, "checkpoint")
        parser.set_defaults(
            {
                "checkpoint.monitor": "val/bpb",
                "checkpoint.mode": "min",
                "checkpoint.save_last": True,
                "checkpoint.filename": "best-{step}",
                "checkpoint.auto_insert_metric_name": False,
                "trainer.precision": default_precision(),
            }
        )
        parser.add_lightning_class_args(RunFacts, "run_facts")
        parser.add_lightning_class_args(RunStatus, "run_status")
        parser.add_lightning_class_args(FitSummary, "fit_summary")
        parser.add_lightning_class_args(ByteThroughputMonitor, "throughput")
        parser.add_lightning_class_args(BindingGapMonitor, "binding")
        parser.add_lightning_class_args(ProbeSuite, "probes")
        parser.add_lightning_class_args(BudgetStop, "budget")
        parser.add_lightning_class_args(AttributionMonitor, "attribution")

    # --- parsing -------------------------------------------------------------------------
    @property
    def prog(self) -> str:
        return f"holozero {self.only}" if self.only else "holozero"

    def parse_arguments(self, parser, args) -> None:
        """A wrong flag, value or config key is one UsageError naming it and the closest real one."""
        try:
            super().parse_arguments(parser, args)
        except argparse.ArgumentError as e:
            argv = [str(a) for a in (sys.argv[1:] if args is None else args)] if not isinstance(args, dict) else []
            known = getattr(self, "_subcommand_parsers", {}).get(self.only, parser)._option_string_actions
            message = e.message if e.argument_name is None else str(e)
            flags = [a.split("=", 1)[0] for a in message.split() if a.startswith("--")]
            if message.startswith("unrecognized arguments") and flags:
                message += suggest(flags[0], known)
            else:
                message = explain(message, argv, known)
            raise UsageError(self.prog, message) from e

    def _sections(self, subcommand: str, cfg) -> dict:
        """This command's config as the run's saved config.yaml would hold it."""
        return yaml.safe_load(self._subcommand_parsers[subcommand].dump(cfg, skip_unset=False, skip_validation=True))

    def _parse_ckpt_path(self) -> None:
        """Before Lightning reads hyperparameters from ``--ckpt_path``: resolve ``last`` to this
        command's run, refuse a corrupt or foreign file naming it, and point the logger of an
        evaluation (or of a resumed run) at the checkpoint's run folder."""
        sub = self.config.get("subcommand")
        cfg = self.config.get(sub) if sub else None
        if cfg is None or not cfg.get("ckpt_path"):
            return super()._parse_ckpt_path()
        into_run = sub in EVALUATIONS
        if cfg.ckpt_path == "last":
            run = resolve_last(cfg.trainer.default_root_dir or ".", self._sections(sub, cfg))
            cfg.ckpt_path, into_run = str(run.last), True
            # the resumed run writes into its own checkpoints/, which of course is not empty
            warnings.filterwarnings("ignore", message=r"Checkpoint directory .* exists and is not empty")
        ckpt = read_checkpoint(cfg.ckpt_path)
        self._ckpt = {"holozero": ckpt["holozero"], "step": logging_step(ckpt), "dirpath": saved_dirpath(ckpt)}
        del ckpt
        if into_run and cfg.trainer.logger in (None, True) and in_a_run(cfg.ckpt_path):
            cfg.trainer.logger = logger_for(run_dir_of(cfg.ckpt_path), self._ckpt["dirpath"])
            if sub in EVALUATIONS:  # keep the run's own config.yaml (the training config)
                self.save_config_kwargs = {**self.save_config_kwargs, "config_filename": f"{sub}_config.yaml"}
        super()._parse_ckpt_path()

    # --- building and running --------------------------------------------------------------
    def _run_subcommand(self, subcommand: str) -> None:
        """Run it; a run stopped by SIGTERM / SIGINT exits 143 / 130 after saying where it
        stopped and how to resume (Lightning ends both quietly: SIGTERM as exit 0)."""
        status = next((c for c in self.trainer.callbacks if isinstance(c, RunStatus)), None)
        if status is not None and subcommand == "fit":
            status.resume_command = resume_command(self._argv)
        try:
            super()._run_subcommand(subcommand)
        except (SIGTERMException, KeyboardInterrupt, SystemExit) as e:
            if status is None or status.stopped is None:  # not a fit, or stopped before training
                if isinstance(e, SIGTERMException):
                    raise SystemExit(EXIT_CODES["SIGTERM"]) from None
                if isinstance(e, KeyboardInterrupt) or isinstance(e.__context__, KeyboardInterrupt):
                    raise SystemExit(EXIT_CODES["SIGINT"]) from None
                raise
        if status is not None and status.stopped is not None:
            if self.trainer.is_global_zero:
                print(stop_message(status.stopped, status.resume_command), file=sys.stderr)
            raise SystemExit(status.stopped["code"])
        if status is not None and subcommand == "fit":
            state = read_status(self.trainer.log_dir) if self.trainer.log_dir else None
            if state is not None and state["state"] != "finished":
                if self.trainer.is_global_zero:
                    print(f"holozero fit: the run {state['reason']}; not finished.", file=sys.stderr)
                raise SystemExit(1)

    def before_instantiate_classes(self) -> None:
        """validate / test / predict score in float32 whatever the run trained in: a reported
        figure never depends on the training precision (bf16-mixed trains, float32 scores)."""
        if self.subcommand in EVALUATIONS:
            cfg = self.config[self.subcommand]
            self._trained_precision = str(cfg.trainer.precision)
            cfg.trainer.precision = "32-true"

    def instantiate_classes(self) -> None:
        super().instantiate_classes()
        cfg = self.config.get(self.subcommand) if self.subcommand else self.config
        self.model.model_config = cfg.model.as_dict()
        if self._ckpt is not None:  # a mismatched checkpoint is named before the trainer touches it
            check_compatible(self._ckpt["holozero"], self.model.net, cfg.ckpt_path)

    def _prepare_subcommand_kwargs(self, subcommand: str) -> dict:
        kwargs = super()._prepare_subcommand_kwargs(subcommand)
        if "verbose" in kwargs:  # Lightning's table repeats every metric once per loader
            self._eval_verbose, kwargs["verbose"] = kwargs["verbose"], False
        if subcommand in EVALUATIONS and self._ckpt is not None:
            # an evaluation is logged at the step of the checkpoint it scores, not at step 0
            self.trainer.fit_loop.epoch_loop._batches_that_stepped = self._ckpt["step"]
        return kwargs

    def _print_metrics(self, subcommand: str) -> None:
        if not (self._eval_verbose and self.trainer.is_global_zero):
            return
        metrics = {k: v for k, v in self.trainer.callback_metrics.items() if v.numel() == 1}
        where = f" {self.config[subcommand].ckpt_path}" if self.config[subcommand].get("ckpt_path") else ""
        trained = getattr(self, "_trained_precision", "32-true")
        note = f"scored in float32 (trained in {trained})" if trained != "32-true" else "scored in float32"
        print(format_metrics(metrics, f"holozero {subcommand}{where}: {note}"))

    def after_validate(self) -> None:
        self._print_metrics("validate")

    def after_test(self) -> None:
        self._print_metrics("test")


def resume_command(argv: list[str] | None) -> str:
    """This command with ``--ckpt_path last`` (in the folder it ran in): how to continue it."""
    import os
    import shlex

    argv = list(sys.argv[1:] if argv is None else argv)
    kept, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == "--ckpt_path":
            skip = True
        elif not a.startswith("--ckpt_path="):
            kept.append(a)
    return f"cd {shlex.quote(os.getcwd())} && holozero {shlex.join(kept)} --ckpt_path last"


def stop_message(stopped: dict, resume: str | None) -> str:
    step, ckpt = stopped["step"], stopped.get("checkpoint")
    if ckpt is None:
        where = "no checkpoint was written yet: the same command starts it over"
    elif stopped.get("checkpoint_step", step) == step:
        where = f"saved at step {step}: {ckpt}"
    else:
        where = f"the last checkpoint is from step {stopped.get('checkpoint_step')}: {ckpt}"
    lines = [f"holozero fit: stopped by {stopped['signal']} at step {step}, not finished; {where}"]
    if ckpt is not None and resume:
        lines.append(f"  resume: {resume}")
    return "\n".join(lines)


def main(args: list[str] | None = None) -> None:
    HoloCLI(
        ByteLM,
        WindowDataModule,
        subclass_mode_data=True,
        save_config_kwargs={"overwrite": True},
        args=args,
    )
