"""``holozero summary RUN_DIR``: one run's results as tables, read back from what it wrote. Validation
best and last, test, binding gaps with their own intervals, and the whole-split bpb of
``holozero evaluate`` beside its compressor floors:

    holozero summary lightning_logs/version_0
    holozero summary lightning_logs/version_0/checkpoints/last.ckpt    # the checkpoint's run

What ``holozero fit`` printed at its end (and ``holozero test`` / ``evaluate`` after it), at any
time later: the figures come from the run's TensorBoard events and its
``evaluate-<split>-step<N>.json`` files; nothing is recomputed. Steps are as logged.
"""

from __future__ import annotations

import re
from pathlib import Path

from .args import CommandParser

BPB = re.compile(r"^(?P<stage>val|test)/(?P<name>bpb|\w+_bpb)$")
GAP = re.compile(r"^(?P<stage>val|test)/(?P<name>binding_gap(/[\w/]+)?)$")
BOUNDS = ("/low", "/high", "/items")
FLOORS = ("zlib", "bz2", "xz", "ppmd", "entropy_rate")


def run_folder(path: str | Path) -> Path:
    """The run folder of ``path``: the folder itself, or the run of a checkpoint in it."""
    from .runs import run_dir_of

    path = Path(path)
    if path.is_file():
        return run_dir_of(path)
    if not path.is_dir():
        raise FileNotFoundError(f"run folder {str(path)!r} does not exist")
    return path


def _order(name: str) -> tuple:
    return (name != "bpb", name)  # the overall figure first, then the segments


def bpb_table(scalars: dict) -> list[str]:
    """Validation best and last, test's last: every overall and per-segment bpb."""
    val = sorted((m["name"] for t in scalars if (m := BPB.match(t)) and m["stage"] == "val"), key=_order)
    test = {m["name"]: scalars[t][-1] for t in scalars if (m := BPB.match(t)) and m["stage"] == "test"}
    names = list(dict.fromkeys([*val, *sorted(test, key=_order)]))
    if not names:
        return ["  no val or test bpb logged"]
    width = max(len("bpb"), *map(len, names))
    lines = [f"  {'bpb':<{width}}  {'val best (step)':>19}  {'val last (step)':>19}  {'test (step)':>19}"]
    for name in names:
        cells = []
        series = scalars.get(f"val/{name}", [])
        if series:
            best = min(series, key=lambda sv: sv[1])
            cells += [f"{best[1]:>10.4f} ({best[0]:>6})", f"{series[-1][1]:>10.4f} ({series[-1][0]:>6})"]
        else:
            cells += [f"{'–':>19}"] * 2
        cells.append(f"{test[name][1]:>10.4f} ({test[name][0]:>6})" if name in test else f"{'–':>19}")
        lines.append(f"  {name:<{width}}  " + "  ".join(cells))
    return lines


def gap_table(scalars: dict) -> list[str]:
    """Every binding gap (headline, per variant, per-item mean) of val and test at its last
    logged step, with its own 95% interval and its item count."""
    rows = {}
    for tag in scalars:
        m = GAP.match(tag)
        if m is None:
            continue
        base = next((tag[: -len(b)] for b in BOUNDS if tag.endswith(b)), tag)
        rows.setdefault(base, {})[tag[len(base) :] or "point"] = scalars[tag][-1]
    rows = {base: r for base, r in rows.items() if "point" in r}
    if not rows:
        return []
    width = max(len("binding gap"), *map(len, rows))
    lines = [f"  {'binding gap':<{width}}  {'gap':>8}  {'95% interval':>19}  {'items':>6}  {'step':>6}"]
    for base in sorted(rows, key=lambda b: (not b.startswith("val/"), b)):
        r = rows[base]
        step, point = r["point"]
        interval = f"[{r['/low'][1]:.4f}, {r['/high'][1]:.4f}]" if "/low" in r and "/high" in r else "–"
        items = f"{int(r['/items'][1]):,}" if "/items" in r else "–"
        lines.append(f"  {base:<{width}}  {point:>8.4f}  {interval:>19}  {items:>6}  {step:>6}")
    return lines


def evaluate_tables(run: Path) -> list[str]:
    """Each ``holozero evaluate`` report of the run: bpb per segment beside its floors."""
    from .evaluate import table
    from .evaluations import evaluations

    lines = []
    for path, report in evaluations(run):
        lines += [
            "",
            f"holozero evaluate: the whole {report.get('split', '?')} split of step {report.get('step', '?')} "
            f"({path.name}); floors: zlib -9, bz2 -9, xz -9e, PPMd order 6 on the same bytes",
        ]
        lines += [("  " + line) if line else line for line in table(report).splitlines()]
    return lines


def summary(path: str | Path) -> str:
    from .events import read_scalars

    run = run_folder(path)
    scalars = read_scalars(run)
    facts = []
    last = run / "checkpoints" / "last.ckpt"
    if last.is_file():
        from holozero.checkpoints import checkpoint_step

        facts.append(f"last.ckpt at step {checkpoint_step(last):,}")
    params = scalars.get("model/learned_input_params")
    if params:
        facts.append(f"{int(params[-1][1]):,} learned input parameters")
    head = f"holozero summary: {run}" + (f" ({', '.join(facts)})" if facts else "")
    lines = [head, *bpb_table(scalars), *gap_table(scalars), *evaluate_tables(run)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    import argparse

    p = CommandParser(
        prog="holozero summary", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("run", metavar="RUN_DIR", help="a run folder (lightning_logs/version_N) or a checkpoint in one")
    args = p.parse_args(argv)
    print(summary(args.run))
