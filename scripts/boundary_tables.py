"""The tables and plots of docs/results/boundary_map_cpu.md, one per boundary, from a sweep of
configs/sweeps/boundary_map_cpu.yaml (read through ``holozero report``'s own collection, so
every number is the runs' own; runs not done are left out and counted):

    python scripts/boundary_tables.py sweeps/map_cpu --plots docs/results/boundary_map_cpu > tables.md

Cells: mean ± 95% half-interval over seeds (t); every arm's total and learned input parameters
(the ones that train, as the run logged them). Δ = arm − zero door at K=8 on the same seeds and
the same budget and body (paired t-test p; one seed: its difference alone, no test). The
schedule's catch-up test is a difference of differences: per seed, Δ at 4B minus Δ at B (paired
over the seeds done at both budgets); the scale test is the same with 2 layers at B against 4
layers at 2B (the same steps). The K table adds byte_embed − zero at each K.
"""

from __future__ import annotations

import argparse
import math
from collections import defaultdict
from pathlib import Path

import numpy as np

from holozero.commands.report import collect, probe_figure
from holozero.commands.sweep import arm_of
from holozero.stats import mean_interval, paired_difference

SEGMENTS = ("text", "caption", "audio", "frame")
B, B4, B2 = {"flops": 1.5e12}, {"flops": 6.0e12}, {"flops": 3.0e12}  # the spec's budgets
BODY2 = ["body_2x.yaml"]
FIVE = ("zero", "hsl_proj", "byte_embed", "hash_ngram", "per_byte")
GEOMETRY = ("zero", "random", "permuted", "raw_bits", "binary_codes", "learned_value")
BPB = [(f"{s} bpb", f"eval/{s}_bpb") for s in SEGMENTS]
GAPS = [("audio gap", "test/binding_gap/audio"), ("frame gap", "test/binding_gap/frame")]
PARAMS = [("total params", "model/total_params"), ("learned input params", "model/learned_input_params")]
CHANGE_METRICS = (("text bpb", "eval/text_bpb"), ("caption bpb", "eval/caption_bpb"))


class Runs:
    """Per-seed values of the done runs, by arm (every axis but the seed); ``spec`` and
    ``records`` (every planned run, done or not, as ``holozero report`` collected it) stay for
    the tables that list what is missing or read more of a run."""

    def __init__(self, out: Path):
        self.spec, records = collect(out)
        self.records = records
        self.by_arm: dict[tuple, dict[int, dict]] = defaultdict(dict)
        self.planned = len(records)
        self.done = 0
        self.floor_conventions = set()  # how each run's evaluate.json counted its floors
        for rec in records:
            if rec["status"] != "done":
                continue
            self.done += 1
            self.floor_conventions.add(rec.get("floor_convention"))
            arm = arm_of(rec["run"])
            values = dict(rec["final"])  # eval/step: the step of the checkpoint evaluate scored
            for name, r in (rec.get("probes") or {}).items():
                if r.get("status") == "ok":
                    values[f"probe/{name}"] = probe_figure(r)
                    if "null_R@1" in r:  # retrieval's empirical null: the media blanked
                        values[f"probe/{name}_null"] = r["null_R@1"]
            self.by_arm[self.key(**arm)][rec["run"].get("seed")] = values

    @staticmethod
    def key(door, K, budget, configs=(), **_) -> tuple:
        # stacked configs by file name: the spec resolves them to absolute paths of its checkout
        return (door, K, budget["flops"], tuple(Path(c).name for c in configs or ()))

    def seeds(self, door, K, budget, configs=()) -> dict[int, dict]:
        return self.by_arm.get(self.key(door, K, budget, configs), {})

    def values(self, metric, door, K, budget, configs=()) -> dict[int, float]:
        return {s: v[metric] for s, v in self.seeds(door, K, budget, configs).items() if metric in v}


def k_of(door: str, K: int) -> int:
    return 1 if door == "per_byte" else K


def ci_text(values) -> str:
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return "–"
    if len(values) == 1:  # one seed: its value, no interval (the n column says so)
        return f"{values[0]:.3f}"
    ci = mean_interval(values)
    return f"{ci['mean']:.3f} ± {ci['high'] - ci['mean']:.3f}"


def difference(a: dict, b: dict) -> dict | None:
    """a − b over the seeds both have: the paired t-test's mean and p from two seeds on; with
    one seed its difference alone (p None: no test), so a partial sweep's tables show what ran."""
    keys = [k for k in a if k in b]
    if len(keys) == 1:
        return {"diff": a[keys[0]] - b[keys[0]], "p": None, "n": 1}
    return paired_difference(a, b)


def p_text(pair: dict, untested: str) -> str:
    """A difference's paired t-test p, or ``untested`` where one seed allows no test."""
    return untested if pair["p"] is None else f"p={pair['p']:.2g}"


def delta_text(pair: dict | None) -> str:
    return "" if pair is None else f" (Δ {pair['diff']:+.3f}, {p_text(pair, 'one seed')})"


def count_text(seeds: dict[int, dict], tag: str) -> str:
    """A parameter count of an arm (the same for every seed), in full."""
    values = {v[tag] for v in seeds.values() if tag in v}
    return f"{int(values.pop()):,}" if len(values) == 1 else ("–" if not values else f"{np.mean(list(values)):,.0f}")


def table(runs: Runs, title: str, arms: list[tuple], metrics) -> str:
    """arms: (label, door, K, budget, configs); Δ against the zero door at K=8, same budget/body."""
    head = ["arm", "n", "steps", *(h for h, _ in PARAMS), *(h for h, _ in metrics)]
    out = [f"#### {title}", "", "| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for label, door, K, budget, configs in arms:
        seeds = runs.seeds(door, K, budget, configs)
        if not seeds:
            out.append(f"| {label} | 0 | " + " | ".join("–" for _ in head[2:]) + " |")
            continue
        steps = [v["eval/step"] for v in seeds.values() if "eval/step" in v]
        cells = [label, str(len(seeds)), f"{np.mean(steps):.0f}" if steps else "–"]
        cells += [count_text(seeds, tag) for _, tag in PARAMS]
        for _, metric in metrics:
            mine = runs.values(metric, door, K, budget, configs)
            text = ci_text(list(mine.values()))
            if (door, K) != ("zero", 8):
                text += delta_text(difference(mine, runs.values(metric, "zero", 8, budget, configs)))
            cells.append(text)
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def fmt(pair: dict | None) -> str:
    return "–" if pair is None else f"{pair['diff']:+.3f} ({p_text(pair, 'one seed, no test')})"


def change_table(
    runs: Runs, title: str, first: tuple, second: tuple, doors=FIVE[1:], metrics=CHANGE_METRICS, between=()
) -> str:
    """Δ(arm − zero, K=8) under two conditions (label, budget, configs), and the per-seed change
    of Δ from the first to the second (paired over the seeds done under both; negative: the
    arm gains on the zero door). The schedule's catch-up (B → 4B) and the scale test (2 → 4
    layers at the same steps) are both this difference of differences. ``between``: more
    conditions whose Δ stands in columns between the two (2B between B and 4B)."""
    conditions = [first, *between, second]
    out = [f"#### {title}", ""]
    columns = " | ".join(f"Δ at {name}" for name, _, _ in conditions)
    out += [f"| arm | metric | {columns} | change (p, seeds) |", "|---" * (len(conditions) + 3) + "|"]
    for door in doors:
        K = k_of(door, 8)
        for label, metric in metrics:
            deltas = []
            for _, budget, configs in conditions:
                mine = runs.values(metric, door, K, budget, configs)
                ref = runs.values(metric, "zero", 8, budget, configs)
                deltas.append({s: mine[s] - ref[s] for s in set(mine) & set(ref)})
            cells = " | ".join(fmt(difference(d, dict.fromkeys(d, 0.0))) for d in deltas)
            change = difference(deltas[-1], deltas[0])
            n = change["n"] if change else len(set(deltas[0]) & set(deltas[-1]))
            out.append(f"| {door} | {label} | {cells} | {fmt(change)}, n={n} |")
    return "\n".join(out) + "\n"


def catch_up(runs: Runs) -> str:
    """Does a learned door catch up with more budget? Δ at B, at 4B, and its change."""
    title = "Catch-up: Δ (arm − zero, K=8) at B and at 4B, and its change"
    return change_table(runs, title, ("B", B, ()), ("4B", B4, ()))


def scale_change(runs: Runs) -> str:
    """Does the zero door's gap to an arm change with body size (the same steps)?"""
    title = "Scale: Δ (arm − zero, K=8) with 2 layers at B and 4 layers at 2B (the same steps), and its change"
    return change_table(runs, title, ("2 layers", B, ()), ("4 layers", B2, tuple(BODY2)))


def k_gap(runs: Runs, budget: dict = B, ks=(1, 2, 4, 8, 12, 16), name: str = "B") -> str:
    """The learned door against the zero door at each K (same K, same seeds, paired)."""
    out = [f"#### K: byte_embed − zero at the same K, budget {name} (paired by seed)", ""]
    out += ["| K | steps | text bpb Δ (p, seeds) | caption bpb Δ (p, seeds) |", "|---|---|---|---|"]
    for K in ks:
        steps = [v["eval/step"] for v in runs.seeds("zero", K, budget).values() if "eval/step" in v]
        cells = [str(K), f"{np.mean(steps):.0f}" if steps else "–"]
        for metric in ("eval/text_bpb", "eval/caption_bpb"):
            mine, ref = runs.values(metric, "byte_embed", K, budget), runs.values(metric, "zero", K, budget)
            pair = difference(mine, ref)
            cells.append("–" if pair is None else f"{pair['diff']:+.3f} ({p_text(pair, 'no test')}, n={pair['n']})")
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def floors_table(runs: Runs) -> str:
    """Every door's whole-test-split bpb per segment at 4B beside the compressors on the same bytes."""
    any_seed = next((v for seeds in runs.by_arm.values() for v in seeds.values() if "floor/text/zlib" in v), None)
    if any_seed is None:
        return ""
    names = ("zlib", "bz2", "xz", "ppmd")
    out = ["#### Floors on the same test bytes (bits per byte)", ""]
    out += ["| segment | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for seg in SEGMENTS:
        cells = [f"{any_seed.get(f'floor/{seg}/{n}', math.nan):.4f}" for n in names]
        out.append(f"| {seg} | " + " | ".join(cells) + " |")
    out += ["", *(f"Floors: {c}." for c in sorted(c for c in runs.floor_conventions if c))]
    return "\n".join(out) + "\n"


def probes_table(runs: Runs, budget: dict) -> str:
    names = (
        "same_class_wrong_instance",
        "same_length_caption",
        "blank_audio",
        "blank_frame",
        "retrieval",
        "retrieval_null",
    )
    out = [f"#### Hard-negative probes per door (test split, budget {budget['flops']:.1e})", ""]
    head = ["arm", "n", *(h for h, _ in PARAMS), *names]
    out += ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for door in FIVE:
        seeds = runs.seeds(door, k_of(door, 8), budget)
        cells = [count_text(seeds, tag) for _, tag in PARAMS]
        cells += [ci_text(list(runs.values(f"probe/{n}", door, k_of(door, 8), budget).values())) for n in names]
        out.append(f"| {door} | {len(seeds)} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def save(fig, folder: Path, name: str) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(folder / name, dpi=110)
    plt.close(fig)


def errbar(ax, runs: Runs, xs, door, K_of_x, budget_of_x, metric, label, configs=()) -> None:
    """Mean over seeds with its 95% interval at each x (an arm's K or budget as a function of x)."""
    m, lo, hi, xx = [], [], [], []
    for x in xs:
        v = list(runs.values(metric, door, K_of_x(x), budget_of_x(x), configs).values())
        if not v:
            continue
        ci = mean_interval(v)
        m.append(ci["mean"])
        lo.append(ci["mean"] - (ci["low"] if len(v) > 1 else ci["mean"]))
        hi.append((ci["high"] if len(v) > 1 else ci["mean"]) - ci["mean"])
        xx.append(x)
    if xx:
        ax.errorbar(xx, m, yerr=[lo, hi], marker="o", capsize=3, label=label)


def plots(runs: Runs, folder: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)

    # schedule: text and caption bpb against the budget, the five arms
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    panels = (("text bpb", "eval/text_bpb"), ("caption bpb", "eval/caption_bpb"))
    for ax, (title, metric) in zip(axes, panels, strict=True):
        for door in FIVE:
            k_fixed = lambda x, d=door: k_of(d, 8)  # noqa: E731
            errbar(ax, runs, [B["flops"], B4["flops"]], door, k_fixed, lambda x: {"flops": x}, metric, door)
        ax.set_xscale("log")
        ax.set_xlabel("training FLOPs")
        ax.set_title(f"{title} (test, whole split)")
    axes[0].legend()
    save(fig, folder, "schedule.png")

    # K: text bpb, audio and frame binding against K
    ks = [1, 2, 4, 8, 12, 16]
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for ax, (title, metric) in zip(axes, [("text bpb", "eval/text_bpb"), *GAPS], strict=True):
        for door in ("zero", "byte_embed"):
            errbar(ax, runs, ks, door, lambda x: x, lambda x: B, metric, door)
        ax.set_xlabel("K (bytes per slot)")
        ax.set_title(f"{title} (test), budget {B['flops']:.1e}")
    axes[0].legend()
    save(fig, folder, "k.png")

    # geometry and scale: bars with intervals
    for name, arms in (
        ("geometry", [(d, 8, B, ()) for d in GEOMETRY]),
        ("scale", [(d, k_of(d, 8), b, c) for d in FIVE for b, c in ((B, ()), (B2, tuple(BODY2)))]),
    ):
        fig, ax = plt.subplots(figsize=(10, 4))
        labels, means, errs = [], [], []
        for door, K, budget, configs in arms:
            v = list(runs.values("eval/text_bpb", door, K, budget, configs).values())
            if not v:
                continue
            ci = mean_interval(v)
            labels.append(door + (" (4 layers)" if configs else ""))
            means.append(ci["mean"])
            errs.append(ci["high"] - ci["mean"] if len(v) > 1 else 0.0)
        ax.bar(range(len(means)), means, yerr=errs, capsize=3)
        ax.set_xticks(range(len(means)), labels, rotation=30, ha="right")
        ax.set_ylim(min(means, default=0) - 0.3, max(means, default=1) + 0.3)
        ax.set_ylabel("text bpb (test, whole split)")
        save(fig, folder, f"{name}.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sweep", type=Path)
    parser.add_argument("--plots", type=Path, help="write schedule.png, k.png, geometry.png, scale.png here")
    args = parser.parse_args()
    runs = Runs(args.sweep)
    print(f"Runs done: {runs.done} of {runs.planned} planned.\n")
    five = lambda budget, configs=(): [(d, d, k_of(d, 8), budget, configs) for d in FIVE]  # noqa: E731
    print(table(runs, f"Schedule: budget B = {B['flops']:.1e} FLOPs", five(B), BPB + GAPS))
    print(table(runs, f"Schedule: budget 4B = {B4['flops']:.1e} FLOPs", five(B4), BPB + GAPS))
    print(catch_up(runs))
    print(
        table(
            runs,
            f"Scale: 2× body parameters (4 layers), budget {B2['flops']:.1e} (the same steps as 2 layers at B)",
            five(B2, tuple(BODY2)),
            BPB + GAPS,
        )
    )
    print(scale_change(runs))
    kk = [(f"{d} K={k}", d, k, B, ()) for d in ("zero", "byte_embed") for k in (1, 2, 4, 8, 12, 16)]
    print(table(runs, f"K: zero and byte_embed, budget B = {B['flops']:.1e}", kk, BPB + GAPS))
    print(k_gap(runs))
    geo = [(d, d, 8, B, ()) for d in GEOMETRY]
    print(table(runs, f"Geometry at K=8, budget B = {B['flops']:.1e}", geo, BPB + GAPS))
    doors = [(d, d, k_of(d, 8), B, ()) for d in (*FIVE, *GEOMETRY[1:])]
    print(table(runs, f"Every door at K=8 and the per-byte baseline, budget B = {B['flops']:.1e}", doors, BPB + GAPS))
    print(floors_table(runs))
    print(probes_table(runs, B4))
    if args.plots:
        plots(runs, args.plots)


if __name__ == "__main__":
    main()
