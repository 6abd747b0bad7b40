"""Read a run's TensorBoard scalars with TensorBoard's own event reader.

python -m holozero.commands.events lightning_logs/version_0                  # last value of every tag
python -m holozero.commands.events lightning_logs/version_0 val/binding_gap  # every value of one tag
"""

from __future__ import annotations

import sys
from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def read_scalars(run_dir: str | Path) -> dict[str, list[tuple[int, float]]]:
    """{tag: [(step, value), ...]} from the event files of one run directory."""
    run_dir = Path(run_dir)
    if not any(run_dir.glob("events.out.tfevents.*")):
        raise FileNotFoundError(f"no TensorBoard event file in {run_dir}")
    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        raise SystemExit(__doc__)
    scalars = read_scalars(args[0])
    for tag in args[1:] or sorted(scalars):
        if tag not in scalars:
            raise SystemExit(f"tag {tag!r} not in {args[0]}; tags: {', '.join(sorted(scalars))}")
        values = scalars[tag] if len(args) > 1 else scalars[tag][-1:]
        for step, value in values:
            print(f"{tag}\tstep {step}\t{value:.6g}")


if __name__ == "__main__":
    main()
