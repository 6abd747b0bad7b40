"""The ``holozero evaluate`` reports a run folder holds: ``evaluate-<split>-step<N>.json``, as
the command writes them by default into the evaluated checkpoint's run. Read by ``holozero
summary`` and by the model card of ``holozero export``."""

from __future__ import annotations

import json
import re
from pathlib import Path

NAME = re.compile(r"^evaluate-(?P<split>\w+)-step(?P<step>\d+)\.json$")


def evaluations(run_dir: str | Path, step: int | None = None) -> list[tuple[Path, dict]]:
    """[(file, report)] of the run's evaluate JSON files, by step then split; with ``step``,
    only the reports of a checkpoint at that step (another step's figures are another model's)."""
    found = []
    for path in Path(run_dir).glob("evaluate-*-step*.json"):
        match = NAME.match(path.name)
        if match is None or (step is not None and int(match["step"]) != step):
            continue
        try:
            report = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise ValueError(f"{path}: not a readable holozero evaluate report ({e})") from None
        if not isinstance(report, dict) or not {"segments", "floors"} <= set(report):
            raise ValueError(f"{path}: not a holozero evaluate report (no segments and floors)")
        found.append((path, report))
    return sorted(found, key=lambda f: (int(NAME.match(f[0].name)["step"]), f[0].name))
