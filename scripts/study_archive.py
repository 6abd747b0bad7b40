"""Keep a long sweep's finished runs across machines: the small files of every done run (events,
fit and sweep status, evaluate.json, probe JSON, configs — never checkpoints), copied into a
folder that is committed, and copied back into a sweep folder so the same sweep command skips
them and runs only what is left.

    python scripts/study_archive.py save studies/trained_cpu docs/results/trained_cpu/runs
    python scripts/study_archive.py restore docs/results/trained_cpu/runs studies/trained_cpu

A session's machine is new each time: a sweep folder (and its checkpoints) does not survive it,
its committed archive does. A run that was not done when saved starts over in the next sweep.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

KEEP = ("events.out.tfevents.*", "fit_status.json", "config.yaml", "*_config.yaml", "hparams.yaml")


def done_runs(sweep: Path) -> list[Path]:
    out = []
    for status in sorted((sweep / "runs").glob("*/status.json")):
        if json.loads(status.read_text()).get("status") == "done":
            out.append(status.parent)
    return out


def save(sweep: Path, archive: Path) -> int:
    """Copies the small files of every done run of ``sweep`` into ``archive/<run id>/``."""
    count = 0
    for run in done_runs(sweep):
        dest = archive / run.name
        version = run / "lightning_logs" / "version_0"
        files = [run / "status.json", run / "command.txt", run / "evaluate.json"]
        files += [p for pattern in KEEP for p in version.glob(pattern)]
        files += sorted((version / "checkpoints" / "probes").glob("*.json"))
        for path in files:
            if path.is_file():
                target = dest / path.relative_to(run)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
        count += 1
    return count


def restore(archive: Path, sweep: Path) -> int:
    """Copies every archived run back into ``sweep/runs/`` (a run already there is left alone)."""
    count = 0
    for run in sorted(p for p in archive.iterdir() if (p / "status.json").is_file()):
        dest = sweep / "runs" / run.name
        if dest.exists():
            continue
        shutil.copytree(run, dest)
        count += 1
    return count


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("action", choices=["save", "restore"])
    p.add_argument("source", type=Path)
    p.add_argument("dest", type=Path)
    args = p.parse_args()
    if not args.source.is_dir():
        p.error(f"{args.source} is not a folder")
    if args.action == "save":
        print(f"study_archive: {save(args.source, args.dest)} done runs saved into {args.dest}")
    else:
        print(f"study_archive: {restore(args.source, args.dest)} runs restored into {args.dest / 'runs'}")


if __name__ == "__main__":
    main()
