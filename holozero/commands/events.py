"""``holozero events RUN_DIR [TAG ...]``: a run's logged scalars, read with TensorBoard's own
event reader.

    holozero events lightning_logs/version_0                  # the last value of every tag
    holozero events lightning_logs/version_0 val/binding_gap  # every value of one tag, by step
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
    import argparse

    from .args import CommandParser
    from .errors import suggest

    p = CommandParser(prog="holozero events", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run", metavar="RUN_DIR", help="a run folder holding TensorBoard event files")
    p.add_argument(
        "tags", metavar="TAG", nargs="*", default=[], help="print every value of these tags (default: every tag's last)"
    )
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    scalars = read_scalars(args.run)
    for tag in args.tags:
        if tag not in scalars:
            raise ValueError(
                f"tag {tag!r} is not logged in {args.run}{suggest(tag, scalars)}; "
                f"`holozero events {args.run}` lists every tag"
            )
    for tag in args.tags or sorted(scalars):
        for step, value in scalars[tag] if args.tags else scalars[tag][-1:]:
            print(f"{tag}\tstep {step}\t{value:.6g}")


if __name__ == "__main__":
    main()
