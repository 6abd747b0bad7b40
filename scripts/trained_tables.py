"""The tables and plots of docs/results/trained_cpu.md (issue #28) from a sweep of
configs/sweeps/trained_cpu.yaml, read through ``holozero report``'s collection and
scripts/boundary_tables.py's ``Runs`` (every number is the runs' own; a run not done is left
out of every figure and listed under each table it belongs to — a partial sweep is normal):

    python scripts/trained_tables.py studies/trained_cpu --plots docs/results/trained_cpu > tables.md

The budgets, Ks and arms are the ones the sweep plans: B is its smallest FLOPs budget, the
others are named by their ratio to it (2B, 4B); the binding, K and curve tables are at the
largest. Cells: mean ± 95% half-interval over seeds (t); every arm's total and learned input
parameters as its runs logged them. Δ = arm − zero door at K=8 on the same seeds and budget
(paired t-test p; where one seed is done, its value and its difference alone, marked "one
seed"). bpb: the whole test split (``holozero evaluate``), beside the compressor floors of the
same bytes; binding gaps and probes: the test split (``holozero test``). The catch-up is a
difference of differences: per seed, Δ at the largest budget minus Δ at B.
Learning curves: the val figures at the sweep's FLOP points (``--budget.val_every_flops``),
x = the training FLOPs spent by then (``budget/flops``), or step × FLOPs per batch where a run
logged none at that step.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))  # scripts/: the boundary map's tables, built on here

from boundary_tables import BPB, GAPS, Runs, change_table, ci_text, difference, errbar, fmt, k_of, save, table  # noqa: E402
from boundary_tables import floors_table as floors  # noqa: E402

from holozero.commands.events import read_scalars  # noqa: E402
from holozero.commands.sweep import arm_of, expand, run_id  # noqa: E402
from holozero.stats import mean_interval  # noqa: E402

SEGMENTS = ("text", "caption", "audio", "frame")
DOORS = ("zero", "hsl_proj", "byte_embed", "hash_ngram", "hash_ngram_matched", "per_byte")  # the schedule arms
K_DOORS = ("zero", "byte_embed")  # the K axis
CONTROL = ("shuffle_captions.yaml",)  # the shuffled-caption control: the zero door, captions from other items
HEADLINE = ("gap (both)", "test/binding_gap")
RETRIEVAL = [("retrieval R@1", "probe/retrieval"), ("null R@1 (media blanked)", "probe/retrieval_null")]
BYTES_PER_S = ("bytes/s", "throughput/median_bytes_per_s")
THROUGHPUT = "train/device/items_per_sec"  # an item is a byte
SEGMENT_CURVES = [(f"{s} bpb", f"val/{s}_bpb") for s in SEGMENTS]
GAP_CURVES = [("gap (both)", "val/binding_gap"), ("audio gap", "val/binding_gap/audio")]
GAP_CURVES += [("frame gap", "val/binding_gap/frame")]
AUDIO_REGIME = 7.5  # issue #28: the trained regime's audio bpb is below this (the uniform rate is 8)


def flop_curves(scalars: dict) -> dict[str, dict[int, tuple[float, float]]]:
    """{tag: {step: (training FLOPs, value)}} of a run's val curves. A validation at ``step`` comes
    after ``step`` optimizer steps; the FLOPs they spent are the ``budget/flops`` the step's own
    training batch logged (at its 0-based index, step − 1), else step × ``model/flops_per_batch``."""
    per_batch = scalars["model/flops_per_batch"][-1][1] if "model/flops_per_batch" in scalars else math.nan
    spent = dict(scalars.get("budget/flops", []))
    tags = [tag for _, tag in SEGMENT_CURVES + GAP_CURVES if tag in scalars]
    return {tag: {s: (spent.get(s - 1, s * per_batch), v) for s, v in scalars[tag]} for tag in tags}


def val_every(spec: dict) -> float | None:
    """The sweep's ``--budget.val_every_flops`` (None when it sets none)."""
    args = [str(a) for a in spec.get("args") or []]
    for i, arg in enumerate(args):
        if arg == "--budget.val_every_flops" and i + 1 < len(args):
            return float(args[i + 1])
        if arg.startswith("--budget.val_every_flops="):
            return float(arg.split("=", 1)[1])
    return None


class Study(Runs):
    """The done runs (``Runs``) with each one's val curves against training FLOPs and its median
    throughput, and what the sweep plans: its budgets, schedule arms and Ks."""

    def __init__(self, out: Path):
        super().__init__(out)
        self.curves: dict[tuple, dict[int, dict]] = defaultdict(dict)
        for rec in self.records:
            if rec["status"] != "done":
                continue
            key, seed = self.key(**arm_of(rec["run"])), rec["run"].get("seed")
            scalars = read_scalars(out / "runs" / rec["id"] / "lightning_logs" / "version_0")
            self.curves[key][seed] = flop_curves(scalars)
            rate = [v for _, v in scalars.get(THROUGHPUT, [])]
            if rate:  # the median: the first windows time compilation and warm-up
                self.by_arm[key][seed][BYTES_PER_S[1]] = float(np.median(rate))
        planned = {self.key(**arm_of(r["run"])) for r in self.records}
        self.budgets = sorted({k[2] for k in planned})
        self.top = self.budgets[-1]
        self.doors = [d for d in DOORS if any(k[:2] == (d, k_of(d, 8)) and not k[3] for k in planned)]
        self.ks = sorted({k[1] for k in planned if k[0] in K_DOORS and k[2] == self.top and not k[3]})
        self.every = val_every(self.spec)

    def name(self, flops: float) -> str:
        ratio = flops / self.budgets[0]
        return "B" if ratio == 1 else f"{ratio:g}B"

    def headline(self) -> list[tuple]:
        """The headline gap column when some run logged it."""
        logged = any(HEADLINE[1] in v for seeds in self.by_arm.values() for v in seeds.values())
        return [HEADLINE] if logged else []

    def curve(self, tag: str, door: str, K: int, flops: float, configs=()) -> list[dict]:
        """An arm's curve over its done seeds: at each step every seed validated at, the mean
        training FLOPs and each seed's value."""
        series = [c[tag] for c in self.curves.get((door, K, flops, tuple(configs)), {}).values() if tag in c]
        if not series:
            return []
        steps = sorted(set.intersection(*(set(s) for s in series)))
        return [
            {"step": st, "flops": float(np.mean([s[st][0] for s in series])), "values": [s[st][1] for s in series]}
            for st in steps
        ]

    def arm_label(self, key: tuple) -> str:
        door, K, flops, configs = key
        return f"{door} K={K}{' + shuffled captions' if configs else ''} at {self.name(flops)}"

    def missing(self, keys) -> str:
        """The line under a table: its planned runs not done, with their status, and its arms
        the sweep does not plan at all."""
        keys = list(dict.fromkeys(keys))
        planned = [r for r in self.records if self.key(**arm_of(r["run"])) in keys]
        seeds = defaultdict(list)  # (arm, status) -> its seeds, in the sweep's order
        for r in planned:
            if r["status"] != "done":
                seeds[self.arm_label(self.key(**arm_of(r["run"]))), r["status"]].append(str(r["run"].get("seed")))
        lost = [f"{arm} seed{'s' * (len(s) > 1)} {', '.join(s)} ({status})" for (arm, status), s in seeds.items()]
        arms = {self.key(**arm_of(r["run"])) for r in planned}
        lost += [f"{self.arm_label(k)} (not in the sweep)" for k in keys if k not in arms]
        if not lost:
            return f"Missing: none — all {len(planned)} planned runs of this table are done.\n"
        done = sum(r["status"] == "done" for r in planned)
        return f"Missing (partial: {done} of {len(planned)} planned runs done): " + "; ".join(lost) + ".\n"


def door_label(door: str) -> str:
    return f"{door} (K=1)" if door == "per_byte" else door


def schedule_arms(study: Study, flops: float) -> list[tuple]:
    return [(door_label(d), d, k_of(d, 8), {"flops": flops}, ()) for d in study.doors]


def keys_of(arms: list[tuple]) -> list[tuple]:
    return [(door, K, budget["flops"], tuple(configs)) for _, door, K, budget, configs in arms]


def regime(study: Study, flops: float) -> str:
    """Is the zero door in the trained regime at this budget: whole-test-split text bpb below
    the zlib floor of the same bytes, audio below 7.5?"""
    budget = {"flops": flops}
    text, audio = (list(study.values(f"eval/{s}_bpb", "zero", 8, budget).values()) for s in ("text", "audio"))
    zlib = next((s["floor/text/zlib"] for s in study.seeds("zero", 8, budget).values() if "floor/text/zlib" in s), None)
    if not text or zlib is None:
        return "Regime check: no zero-door run at K=8 scored at this budget (evaluate.json).\n"

    def below(values: list[float], bound: float) -> str:
        ci = mean_interval(values)
        if ci["mean"] >= bound:
            return "not below"
        if ci["n"] < 2:
            return "below (one seed)"
        return "below (its whole 95% interval)" if ci["high"] < bound else "below (the mean; the interval reaches it)"

    verdicts = [below(text, zlib), below(audio, AUDIO_REGIME) if audio else "not scored"]
    trained = all(v.startswith("below") for v in verdicts)
    return (
        f"Regime check (zero door, K=8, whole test split): text {ci_text(text)} bpb vs zlib {zlib:.3f} — "
        f"{verdicts[0]}; audio {ci_text(audio)} vs {AUDIO_REGIME} — {verdicts[1]}: "
        f"{'the trained regime' if trained else 'not the trained regime'}.\n"
    )


def budget_tables(study: Study) -> str:
    table_of_floors = floors(study)  # the same test bytes at every budget: one table
    out = [table_of_floors or "No floors: no run has an evaluate.json.\n"]
    for flops in study.budgets:
        arms = schedule_arms(study, flops)
        title = f"Budget {study.name(flops)} = {flops:.1e} training FLOPs (bpb: whole test split; gaps: test)"
        out += [table(study, title, arms, BPB + GAPS + study.headline()), regime(study, flops)]
        out.append(study.missing(keys_of(arms)))
    return "\n".join(out)


def catch_up(study: Study) -> str:
    """Does a learned door catch up with more budget? Δ at every budget, and its change."""
    conditions = [(study.name(b), {"flops": b}, ()) for b in study.budgets]
    if len(conditions) < 2:
        return "#### Catch-up\n\nThe sweep plans one budget: no catch-up to measure.\n"
    first, last = conditions[0][0], conditions[-1][0]
    learned = [d for d in study.doors if d != "zero"]
    title = f"Catch-up: Δ (arm − zero, K=8) per segment at each budget, and its change from {first} to {last}"
    text = change_table(study, title, conditions[0], conditions[-1], learned, BPB, conditions[1:-1])
    keys = [k for b in study.budgets for k in keys_of(schedule_arms(study, b))]
    return text + "\n" + study.missing(keys)


def paired_text(pair: dict | None) -> str:
    return "–" if pair is None else f"{fmt(pair)}, n={pair['n']}"


def binding(study: Study) -> str:
    """Test binding gaps and retrieval at the largest budget beside the shuffled-caption null."""
    top = {"flops": study.top}
    null = ("zero + shuffled captions (null)", "zero", 8, top, CONTROL)
    arms = [*schedule_arms(study, study.top), null]
    gaps = GAPS + study.headline()
    title = f"Binding at {study.name(study.top)} (test split): gaps and retrieval beside the shuffled-caption null"
    out = [table(study, title, arms, gaps + RETRIEVAL)]
    head = [f"{h} − null" for h, _ in gaps] + ["R@1 − its media-blanked null R@1"]
    out += ["Each arm against the null (paired by seed; retrieval: R@1 − null R@1 of the same run):", ""]
    out += ["| arm | " + " | ".join(head) + " |", "|---" * (len(head) + 1) + "|"]
    for label, door, K, budget, _ in arms[:-1]:
        cells = [
            paired_text(difference(study.values(m, door, K, budget), study.values(m, "zero", 8, top, CONTROL)))
            for _, m in gaps
        ]
        r1, r1_null = (study.values(m, door, K, budget) for _, m in RETRIEVAL)
        cells.append(paired_text(difference(r1, r1_null)))
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n\n" + study.missing(keys_of(arms))


def k_tables(study: Study) -> str:
    """The zero door and byte_embed at each K the sweep plans, at the largest budget."""
    top, name = {"flops": study.top}, study.name(study.top)
    arms = [(f"{d} K={K}", d, K, top, ()) for d in K_DOORS for K in study.ks]
    paired = BPB[:2] + GAPS + study.headline()  # the paired table: every figure but bytes/s
    out = [table(study, f"K at {name} = {study.top:.1e} training FLOPs", arms, paired + [BYTES_PER_S])]
    out.append(
        "bytes/s: the median over a run of its training bytes per second (train/device/items_per_sec), "
        "measured with the sweep's jobs sharing the machine: comparable within the sweep only.\n"
    )
    out += [k_pairs(study, paired), study.missing(keys_of(arms))]
    return "\n".join(out)


def k_pairs(study: Study, metrics: list[tuple]) -> str:
    """Paired by seed at the largest budget: each K door against itself at K=8 (does packing
    more or fewer bytes change it?) and byte_embed against the zero door at the same K (does
    the learned table change that?)."""
    pairs = [(f"{d} K={K} − {d} K=8", (d, K), (d, 8)) for d in K_DOORS for K in study.ks if K != 8]
    pairs += [(f"byte_embed − zero at K={K}", ("byte_embed", K), ("zero", K)) for K in study.ks]
    top = {"flops": study.top}
    out = [f"#### K: paired differences at {study.name(study.top)} (Δ, p, seeds)", ""]
    out += ["| difference | " + " | ".join(h for h, _ in metrics) + " |", "|---" * (len(metrics) + 1) + "|"]
    for label, (door, K), (ref_door, ref_K) in pairs:
        cells = [
            paired_text(difference(study.values(m, door, K, top), study.values(m, ref_door, ref_K, top)))
            for _, m in metrics
        ]
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def at_points(points: list[dict], every: float, count: int) -> dict[int, dict]:
    """The curve's point nearest each FLOP point i × every (i = 1..count), one per point."""
    out = {}
    for p in points:
        i = round(p["flops"] / every)
        if 1 <= i <= count and (i not in out or abs(p["flops"] - i * every) < abs(out[i]["flops"] - i * every)):
            out[i] = p
    return out


def curve_arms(study: Study, with_null: bool) -> list[tuple]:
    arms = [(door_label(d), d, k_of(d, 8), ()) for d in study.doors]
    return arms + ([("zero + shuffled captions (null)", "zero", 8, CONTROL)] if with_null else [])


def curve_table(study: Study, title: str, tag: str, with_null: bool = False) -> str:
    """An arm per row: its val figure at each FLOP point of the largest budget's runs, then the
    final val figure of each smaller budget's runs (their own schedule ended)."""
    if study.every is None:
        return f"#### {title}\n\nThe sweep sets no --budget.val_every_flops: no common FLOP points.\n"
    if not any(tag in c for seeds in study.curves.values() for c in seeds.values()):
        return f"#### {title}\n\nNo run logged {tag}.\n"
    count = round(study.top / study.every)
    head = ["arm", "n", *(f"{i * study.every:.2e}" for i in range(1, count + 1))]
    head += [f"{study.name(b)} run, end" for b in study.budgets[:-1]]
    out = [f"#### {title}", "", "| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for label, door, K, configs in curve_arms(study, with_null):
        points = at_points(study.curve(tag, door, K, study.top, configs), study.every, count)
        n = max((len(p["values"]) for p in points.values()), default=0)
        cells = [label, str(n), *(ci_text(points[i]["values"]) if i in points else "–" for i in range(1, count + 1))]
        for b in study.budgets[:-1]:
            end = study.curve(tag, door, K, b, configs)
            cells.append(ci_text(end[-1]["values"]) if end else "–")
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def curve_tables(study: Study) -> str:
    every = "no common points" if study.every is None else f"every {study.every:.2e} training FLOPs"
    out = [
        f"Learning curves (val split, {every}; columns: the FLOP point, each arm at the step nearest it; "
        f"rows: the {study.name(study.top)} runs; last columns: the smaller budgets' runs at their end):\n"
    ]
    out += [curve_table(study, f"Learning curve: val {label}", tag) for label, tag in SEGMENT_CURVES]
    out += [curve_table(study, f"Learning curve: val binding {label}", tag, True) for label, tag in GAP_CURVES]
    keys = [(d, K, b, ()) for _, d, K, _ in curve_arms(study, False) for b in study.budgets]
    return "\n".join(out) + "\n" + study.missing([*keys, ("zero", 8, study.top, CONTROL)])


def draw_curves(ax, study: Study, tag: str, with_null: bool) -> None:
    """Every arm's mean line and min–max band over seeds at the largest budget; each smaller
    budget's runs at their end (final val figure, min–max bar) in the arm's colour."""
    from matplotlib.lines import Line2D

    if not any(study.curve(tag, d, K, b, c) for _, d, K, c in curve_arms(study, with_null) for b in study.budgets):
        ax.text(0.5, 0.5, f"no run logged {tag}", ha="center", transform=ax.transAxes)
        return

    markers = "sD^v<>"
    for i, (label, door, K, configs) in enumerate(curve_arms(study, with_null)):
        color, style = f"C{i}", "--" if configs else "-"
        points = study.curve(tag, door, K, study.top, configs)
        if points:
            x = [p["flops"] for p in points]
            ax.plot(
                x,
                [np.mean(p["values"]) for p in points],
                style,
                color=color,
                label=f"{label} (n={len(points[0]['values'])})",
            )
            ax.fill_between(
                x, [min(p["values"]) for p in points], [max(p["values"]) for p in points], color=color, alpha=0.15
            )
        for marker, b in zip(markers, study.budgets[:-1], strict=False):
            end = study.curve(tag, door, K, b, configs)
            if end:
                v = end[-1]["values"]
                m = float(np.mean(v))
                ax.errorbar(
                    [end[-1]["flops"]], [m], yerr=[[m - min(v)], [max(v) - m]], fmt=marker, color=color, capsize=3
                )
    proxies = [
        Line2D(
            [],
            [],
            color="k",
            marker=marker,
            linestyle="none",
            label=f"{study.name(b)} runs: final val (own schedule ended)",
        )
        for marker, b in zip(markers, study.budgets[:-1], strict=False)
    ]
    ax.legend(handles=ax.get_legend_handles_labels()[0] + proxies, fontsize=7)
    ax.set_xlabel("training FLOPs")


def plots(study: Study, folder: Path) -> list[Path]:
    """curves_<segment>.png, curves_binding_gap.png and k.png."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    names = []
    caption = f"lines: {study.name(study.top)} runs, mean over seeds; band: min–max"
    for (label, tag), seg in zip(SEGMENT_CURVES, SEGMENTS, strict=True):
        fig, ax = plt.subplots(figsize=(8, 5))
        draw_curves(ax, study, tag, with_null=False)
        ax.set_ylabel(f"val {label}")
        ax.set_title(f"val {label} against training FLOPs ({caption})", fontsize=9)
        names.append(f"curves_{seg}.png")
        save(fig, folder, names[-1])
    fig, axes = plt.subplots(1, len(GAP_CURVES), figsize=(6 * len(GAP_CURVES), 5))
    for ax, (label, tag) in zip(axes, GAP_CURVES, strict=True):
        draw_curves(ax, study, tag, with_null=True)
        ax.set_ylabel(f"val binding {label} (bits per caption byte)")
        ax.set_title(f"val binding {label}", fontsize=9)
    fig.suptitle(f"Binding gaps against training FLOPs ({caption}; dashed: the shuffled-caption null)", fontsize=10)
    names.append("curves_binding_gap.png")
    save(fig, folder, names[-1])
    if study.ks:
        panels = [*BPB[:2], *GAPS]
        fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 4))
        top = {"flops": study.top}
        for ax, (title, metric) in zip(axes, panels, strict=True):
            for door in K_DOORS:
                errbar(ax, study, study.ks, door, lambda x: x, lambda x: top, metric, door)
            ax.set_xticks(study.ks)
            ax.set_xlabel("K (bytes per slot)")
            ax.set_title(f"{title} (test), {study.name(study.top)}; 95% interval over seeds", fontsize=9)
        if axes[0].get_legend_handles_labels()[0]:
            axes[0].legend()
        names.append("k.png")
        save(fig, folder, names[-1])
    return [folder / n for n in names]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sweep", type=Path, help="the sweep's --out folder")
    parser.add_argument("--plots", type=Path, help="write curves_*.png and k.png here")
    args = parser.parse_args(argv)
    if not (args.sweep / "spec.yaml").is_file():
        raise SystemExit(f"trained_tables.py: {args.sweep} is not a sweep folder (no spec.yaml)")
    runs = expand(yaml.safe_load((args.sweep / "spec.yaml").read_text()))
    odd = next((r for r in runs if not {"door", "K", "budget"} <= set(r) or "flops" not in (r["budget"] or {})), None)
    if not runs or odd is not None:
        raise SystemExit(
            f"trained_tables.py: {args.sweep / 'spec.yaml'} is no trained-regime sweep: every run needs a door, "
            f"a K and a FLOPs budget ({'it plans no run' if not runs else f'run {run_id(odd)} has not'})"
        )
    study = Study(args.sweep)
    lost = study.planned - study.done
    print(
        f"Runs done: {study.done} of {study.planned} planned" + (f" (partial: {lost} not done).\n" if lost else ".\n")
    )
    budgets = ", ".join(f"{study.name(b)} = {b:.1e}" for b in study.budgets)
    print(f"Budgets (training FLOPs): {budgets}.\n")
    print(budget_tables(study))
    print(catch_up(study))
    print(binding(study))
    print(k_tables(study) if study.ks else "#### K\n\nThe sweep plans no K axis at the largest budget.\n")
    print(curve_tables(study))
    if args.plots:
        written = plots(study, args.plots)
        print("Plots: " + ", ".join(str(p) for p in written))


if __name__ == "__main__":
    main()
