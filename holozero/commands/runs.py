"""Runs on disk: ``<root>/lightning_logs/version_N/`` holds a run's ``config.yaml``, events and
``checkpoints/``. Which run a checkpoint belongs to, and which run ``--ckpt_path last`` means.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import yaml

MATCHED_SECTIONS = ("model", "data")  # what makes two commands the same run


def in_a_run(ckpt_path: str | Path) -> bool:
    """Whether a checkpoint lies in a run's ``checkpoints/`` folder (not a loose file)."""
    return Path(ckpt_path).absolute().parent.name == "checkpoints"


def run_dir_of(ckpt_path: str | Path) -> Path:
    """The run folder (``lightning_logs/version_N``) that holds a checkpoint: the parent of
    its ``checkpoints/`` folder, where evaluations of the checkpoint write. A loose checkpoint
    file (not in a run) has its own folder."""
    ckpt = Path(ckpt_path).absolute()
    return ckpt.parent.parent if in_a_run(ckpt) else ckpt.parent


def logger_for(run_dir: Path, saved_dirpath: str | None = None) -> dict:
    """The TensorBoard logger config that writes into ``run_dir`` itself (no new version_N).

    ``saved_dirpath``: the checkpoint folder as the run's ModelCheckpoint recorded it. When it
    names the same folder, its spelling (relative, ``./``) is kept: Lightning compares the two
    as strings and, on "dirpath has changed", drops the best-k state of a resumed run."""
    save_dir, name, version = str(run_dir.parent.parent), run_dir.parent.name, run_dir.name
    if saved_dirpath and Path(saved_dirpath).resolve() == (run_dir / "checkpoints").resolve():
        version_dir = os.path.dirname(saved_dirpath.rstrip("/"))
        logs = os.path.dirname(version_dir)
        save_dir, name, version = os.path.dirname(logs), os.path.basename(logs), os.path.basename(version_dir)
    return {
        "class_path": "lightning.pytorch.loggers.TensorBoardLogger",
        "init_args": {"save_dir": save_dir, "name": name, "version": version},
    }


@dataclass
class Run:
    folder: Path
    version: int
    config: dict | None  # the saved config.yaml (None: the run has none)

    @property
    def last(self) -> Path:
        return self.folder / "checkpoints" / "last.ckpt"


def runs_with_last(root: str | Path) -> list[Run]:
    """Every ``lightning_logs/version_N`` under ``root`` with a ``last.ckpt``, newest first."""
    runs = []
    for folder in (Path(root) / "lightning_logs").glob("version_*"):
        version = folder.name.removeprefix("version_")
        if version.isdigit() and (folder / "checkpoints" / "last.ckpt").is_file():
            saved = folder / "config.yaml"
            config = yaml.safe_load(saved.read_text()) if saved.is_file() else None
            runs.append(Run(folder, int(version), config))
    return sorted(runs, key=lambda r: -r.version)


def _flat(value, prefix: str = "") -> dict:
    if isinstance(value, dict):
        out = {}
        for key, sub in value.items():
            out |= _flat(sub, f"{prefix}.{key}" if prefix else str(key))
        return out
    return {prefix: value}


def differences(saved: dict, wanted: dict) -> list[str]:
    """'key: run X, this command Y' for every setting of the matched sections that differs."""
    a = _flat({k: saved.get(k) for k in MATCHED_SECTIONS})
    b = _flat({k: wanted.get(k) for k in MATCHED_SECTIONS})
    keys = sorted(a.keys() | b.keys())
    return [f"{k}: run {a.get(k)!r}, this command {b.get(k)!r}" for k in keys if a.get(k) != b.get(k)]


def resolve_last(root: str | Path, wanted: dict) -> Run:
    """The one run under ``root`` whose saved model and data sections equal ``wanted``'s.

    Refuses, listing every candidate and how it differs, when none or several match: resuming
    the newest run regardless resumes the wrong one after any other run in the same folder."""
    runs = runs_with_last(root)
    where = Path(root) / "lightning_logs"
    if not runs:
        raise FileNotFoundError(f"--ckpt_path last: no run with checkpoints/last.ckpt under {where}")
    matching = [r for r in runs if r.config is not None and not differences(r.config, wanted)]
    if len(matching) == 1:
        return matching[0]
    lines = []
    for run in runs:
        if run.config is None:
            why = "no config.yaml"
        elif run in matching:
            why = "matches"
        else:
            diff = differences(run.config, wanted)
            why = "; ".join(diff[:3]) + (f"; and {len(diff) - 3} more" if len(diff) > 3 else "")
        lines.append(f"  {run.last}: {why}")
    problem = "several runs match" if matching else "no run matches this command's model and data"
    raise ValueError(
        f"--ckpt_path last: {problem} under {where}; pass the checkpoint path instead:\n" + "\n".join(lines)
    )
