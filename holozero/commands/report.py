"""``holozero report DIR``: tables and plots of a sweep, read only from what its runs wrote
(TensorBoard event files, probe JSON and ``holozero evaluate``'s JSON). A missing or failed
run is listed as such and never averaged over.

Figures per run: the last validation (``val/*``), the test split (``test/*``: fixed windows,
binding gaps and probes of ``holozero test``) and the whole test split of ``holozero
evaluate`` (``eval/<segment>_bpb`` with ``floor/<segment>/<compressor>`` beside it).

Writes ``DIR/report/report.md``, ``report.csv`` and PNG plots: bpb against step and against
FLOPs (mean over seeds with a min–max band), the K sweep (text bpb, caption bpb, binding
gap, bytes/s, peak memory against K) and a door × modality grid.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import yaml

from holozero.floors import CONTAINER_CONVENTION
from holozero.stats import mean_interval, paired_difference

from .args import CommandParser
from .events import read_scalars
from .sweep import arm_of, run_id

SEGMENT_NAMES = ("text", "caption", "audio", "frame")
VAL_METRICS = ("val/bpb", *(f"val/{s}_bpb" for s in SEGMENT_NAMES), "val/binding_gap")
TEST_METRICS = ("test/bpb", *(f"test/{s}_bpb" for s in SEGMENT_NAMES), "test/binding_gap")
TEST_METRICS += tuple(f"test/binding_gap/{v}" for v in ("audio", "frame"))
EVAL_METRICS = tuple(f"eval/{s}_bpb" for s in SEGMENT_NAMES)
METRICS = VAL_METRICS + TEST_METRICS + EVAL_METRICS
# the columns of report.md when the runs have them (every metric is in report.csv and summary.json)
TABLE = (*EVAL_METRICS, "test/binding_gap/audio", "test/binding_gap/frame", "val/bpb")
FACTS = {  # per-run facts, last logged value
    "total params": "model/total_params",
    "learned input params": "model/learned_input_params",
    "FLOPs/byte": "model/flops_per_byte",
    "bytes/s": "train/device/items_per_sec",
    "peak memory MB": "system/peak_memory_mb",
}


def arm_name(arm: dict) -> str:
    return run_id(arm) or "all"


# what an evaluate.json without a floor_convention holds: floors written before issue #25
CONTAINER_FLOORS = CONTAINER_CONVENTION


def read_evaluation(path: Path) -> dict | None:
    """A run's evaluate.json, parsed once for its figures and its floor convention (None without one)."""
    return json.loads(path.read_text()) if path.exists() else None


def evaluated(report: dict | None) -> dict[str, float]:
    """``eval/<segment>_bpb`` and ``floor/<segment>/<compressor>`` of a run's evaluate.json."""
    if report is None:
        return {}
    out = {"eval/step": report["step"]}  # the step of the checkpoint it scored
    out |= {f"eval/{seg}_bpb": r["bpb"] for seg, r in report["segments"].items()}
    out |= {f"floor/{seg}/{name}": v for seg, f in report["floors"].items() for name, v in f.items()}
    return out


def floor_convention(report: dict | None) -> str | None:
    """How the floors of a run's evaluate.json were counted (None without one)."""
    return None if report is None else report.get("floor_convention", CONTAINER_FLOORS)


def scored_elsewhere(scalars: dict, evaluation: dict, step: int) -> str | None:
    """Where a run was scored, when that is not at ``step`` (its fit's last): the step of its
    ``test/*`` scalars and of its evaluate.json (``evaluated``), which score the checkpoint they
    were given."""
    tested = [scalars[k][-1][0] for k in TEST_METRICS if k in scalars]  # not test/time: logged per batch
    scored = {f"test at step {at}" for at in tested if at != step}
    if "eval/step" in evaluation and evaluation["eval/step"] != step:
        scored.add(f"evaluate at step {evaluation['eval/step']}")
    return ", ".join(sorted(scored)) or None


def probes_at(folder: Path, step: int) -> dict:
    """The probes of the model the fit finished with: the test's at ``step`` when there are
    some, else the last validation's; another step's probes are another model's."""
    for stage in ("test", "val"):
        path = folder / f"{stage}-step{step}.json"
        if path.exists():
            return json.loads(path.read_text())["probes"]
    return {}


def total_params(final: dict) -> dict:
    """``model/total_params`` of a run logged before it was: learned input + body parameters."""
    parts = ("model/learned_input_params", "model/body_params")
    if "model/total_params" in final or not all(p in final for p in parts):
        return {}
    return {"model/total_params": sum(final[p] for p in parts)}


def collect(out: Path) -> tuple[dict, list[dict]]:
    """The sweep's spec and one record per planned run: status, final metrics, curves."""
    spec = yaml.safe_load((out / "spec.yaml").read_text())
    from callbacks.run_status import read_status

    from .sweep import expand

    records = []
    for run in expand(spec):
        root = out / "runs" / run_id(run)
        state = json.loads((root / "status.json").read_text()) if (root / "status.json").exists() else {}
        rec = {"run": run, "id": run_id(run), "status": state.get("status", "missing"), "final": {}, "curves": {}}
        events = root / "lightning_logs" / "version_0"
        fit = read_status(events)
        if rec["status"] == "done" and (fit is None or fit["state"] != "finished"):
            # never a finished run: a fit stopped short (a signal, a crash, a budget not reached)
            # or one that recorded nothing (before fit_status.json) is left out of every table
            rec["status"] = "fit not finished" if fit is None else f"fit {fit['state']} at step {fit['step']}"
            if fit is not None and fit.get("target_step"):
                rec["status"] += f" of {fit['target_step']}"
        elif rec["status"] == "done" and fit.get("target_step") and fit["step"] > fit["target_step"]:
            # trained past its budget (a resume that took one more step): not at the matched budget
            rec["status"] = f"fit finished at step {fit['step']}, past its target step {fit['target_step']}"
        logged = rec["status"] == "done" and any(events.glob("events.out.tfevents.*"))
        scalars = read_scalars(events) if logged else None
        evaluate_json = read_evaluation(root / "evaluate.json") if logged else None
        evaluation = evaluated(evaluate_json)
        if scalars is not None and (elsewhere := scored_elsewhere(scalars, evaluation, fit["step"])):
            # scored at another step than the fit's last (a stale last.ckpt): another model's figures
            rec["status"] = f"{elsewhere}, fit finished at step {fit['step']}"
        elif scalars is not None:
            rec["final"] = {k: v[-1][1] for k, v in scalars.items()}
            rec["curves"] = {k: scalars[k] for k in VAL_METRICS if k in scalars}
            rec["final"] |= evaluation | total_params(rec["final"])
            rec["floor_convention"] = floor_convention(evaluate_json)
            rec["probes"] = probes_at(events / "checkpoints" / "probes", fit["step"])
        elif rec["status"] == "done":
            rec["status"] = "done, no events"
        records.append(rec)
    return spec, records


def reference_of(arm: dict, reference: dict) -> str | None:
    """The arm an arm is paired with: itself on every axis except the ones the reference names
    (door=zero, K=8, ...), which take the reference's values — so at two budgets, each arm is
    paired with the reference at its own budget, never across budgets (seed is the pairing)."""
    return arm_name(arm | reference) if reference else None


def summarize(spec: dict, records: list[dict]) -> list[dict]:
    """One row per arm: each metric's mean ± std and 95% interval over done seeds, facts,
    and the paired difference against its reference arm (same seeds) with its p-value."""
    arms = defaultdict(list)
    for rec in records:
        arms[arm_name(arm_of(rec["run"]))].append(rec)
    reference = spec.get("reference") or {}
    rows = []
    for name, recs in arms.items():
        ref_name = reference_of(arm_of(recs[0]["run"]), reference)
        ref_name = ref_name if ref_name in arms else None
        done = [r for r in recs if r["status"] == "done"]
        row = {
            "arm": name,
            "planned": len(recs),
            "done": len(done),
            "not done": ", ".join(f"seed {r['run'].get('seed')}: {r['status']}" for r in recs if r not in done),
        }
        for metric in METRICS:
            values = [r["final"][metric] for r in done if metric in r["final"]]
            if not values:
                continue
            ci = mean_interval(values)
            row[metric] = {
                "mean": ci["mean"],
                "std": float(np.std(values, ddof=1)) if len(values) > 1 else math.nan,
                "low": ci["low"],
                "high": ci["high"],
                "n": ci["n"],
            }
            if ref_name and name != ref_name:
                pair = paired(arms[ref_name], done, metric)
                row[metric]["paired"] = pair and pair | {"reference": ref_name}
        for label, tag in FACTS.items():
            values = [r["final"][tag] for r in done if tag in r["final"]]
            row[label] = float(np.mean(values)) if values else math.nan
        rows.append(row)
    return rows


def paired(reference: list[dict], arm: list[dict], metric: str) -> dict | None:
    """Mean difference arm − reference over seeds present (done) in both, with a paired t-test."""

    def by_seed(recs: list[dict]) -> dict:
        done = (r for r in recs if r["status"] == "done" and metric in r["final"])
        return {r["run"].get("seed"): r["final"][metric] for r in done}

    return paired_difference(by_seed(arm), by_seed(reference))


def probe_figure(result: dict) -> float:
    """The one figure of a probe result: R@1 for retrieval, the mean difference otherwise."""
    return result["R@1"] if "R@1" in result else result["mean"]


def _fmt(cell) -> str:
    if not isinstance(cell, dict):
        if cell is None or (isinstance(cell, float) and math.isnan(cell)):
            return ""
        if isinstance(cell, float) and cell.is_integer():  # counts (parameters) in full, not 2.321e+05
            return f"{int(cell):,}"
        return f"{cell:,.4g}" if isinstance(cell, float) else str(cell)
    text = f"{cell['mean']:.4f} ± {cell['std']:.4f} [{cell['low']:.4f}, {cell['high']:.4f}] (n={cell['n']})"
    if cell.get("paired"):
        pair = cell["paired"]
        text += f"; Δ {pair['diff']:+.4f} vs {pair['reference']}, p={pair['p']:.3g}"
    return text


def floor_lines(records: list[dict]) -> list[str]:
    """The compressor floors of the scored test bytes (the same bytes for every run)."""
    floors = {}
    for rec in records:
        for key, value in rec["final"].items():
            if key.startswith("floor/"):
                _, seg, name = key.split("/")
                floors.setdefault(seg, {}).setdefault(name, value)
    if not floors:
        return []
    names = sorted({n for f in floors.values() for n in f}, key=lambda n: (n == "entropy_rate", n))
    lines = ["", "## Floors on the same test bytes (bits per byte)", "", "| segment | " + " | ".join(names) + " |"]
    lines.append("|---" * (len(names) + 1) + "|")
    lines += [
        f"| {seg} | " + " | ".join(f"{f[n]:.4f}" if n in f else "" for n in names) + " |" for seg, f in floors.items()
    ]
    conventions = sorted({rec["floor_convention"] for rec in records if rec.get("floor_convention")})
    return lines + ["", *(f"Floors: {c}." for c in conventions)]


def probe_lines(rows: list[dict], records: list[dict]) -> list[str]:
    """Per arm, each probe's figure averaged over seeds (bits/byte; R@1 for retrieval)."""
    per_arm = defaultdict(lambda: defaultdict(list))
    for rec in records:
        for name, r in (rec.get("probes") or {}).items():
            if r.get("status") == "ok":
                per_arm[arm_name(arm_of(rec["run"]))][name].append(probe_figure(r))
                if "null_R@1" in r:  # the same model with the media blanked: the retrieval's null
                    per_arm[arm_name(arm_of(rec["run"]))][f"{name} null"].append(r["null_R@1"])
    names = sorted({n for probes in per_arm.values() for n in probes})
    if not names:
        return []
    lines = [
        "",
        "## Hard-negative probes (mean over seeds; bits/byte, retrieval: R@1 beside the media-blanked null)",
        "",
    ]
    lines += ["| arm | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for row in rows:
        probes = per_arm.get(row["arm"], {})
        cells = [f"{np.mean(probes[n]):+.4f} (n={len(probes[n])})" if n in probes else "" for n in names]
        lines.append(f"| {row['arm']} | " + " | ".join(cells) + " |")
    return lines


def write_tables(rows: list[dict], records: list[dict], folder: Path, spec: dict) -> None:
    from models.flops import CONVENTION as FLOP_CONVENTION  # here: `holozero --help` imports no torch

    metrics = [m for m in METRICS if any(m in r for r in rows)]
    shown = [m for m in TABLE if m in metrics] or metrics  # the md table; every metric is in the csv
    cols = ["arm", "done", "planned", *shown, *FACTS, "not done"]
    lines = [
        "# Sweep report",
        "",
        f"Reference for paired differences: `{spec.get('reference') or 'none'}`, at the same value of every "
        "other axis (Δ = arm − reference over the same seeds, paired t-test p). "
        "Cells: mean ± std [95% t-interval] (n seeds). " + FLOP_CONVENTION + ".",
        "",
        "| " + " | ".join(cols) + " |",
        "|" + "---|" * len(cols),
    ]
    lines += ["| " + " | ".join(_fmt(r.get(c)) for c in cols) + " |" for r in rows]
    lines += floor_lines(records) + probe_lines(rows, records)
    lines += ["", "## Runs", "", "| run | status | table seed |", "|---|---|---|"]
    for rec in records:  # which table a seeded control door drew, run by run
        seed = rec["final"].get("model/table_seed")
        lines.append(f"| {rec['id']} | {rec['status']} | {'' if seed is None else int(seed)} |")
    (folder / "report.md").write_text("\n".join(lines) + "\n")
    with open(folder / "report.csv", "w", newline="") as f:
        w = csv.writer(f)
        header = ["arm", "done", "planned"]
        for m in metrics:
            header += [f"{m} mean", f"{m} std", f"{m} low", f"{m} high", f"{m} n", f"{m} paired diff", f"{m} paired p"]
        w.writerow(header + list(FACTS) + ["not done"])
        for r in rows:
            line = [r["arm"], r["done"], r["planned"]]
            for m in metrics:
                c = r.get(m) or {}
                pr = c.get("paired") or {}
                line += [
                    c.get("mean"),
                    c.get("std"),
                    c.get("low"),
                    c.get("high"),
                    c.get("n"),
                    pr.get("diff"),
                    pr.get("p"),
                ]
            w.writerow(line + [r.get(k) for k in FACTS] + [r["not done"]])


def plot(records: list[dict], rows: list[dict], folder: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    arms = defaultdict(list)
    for rec in records:
        if rec["status"] == "done" and "val/bpb" in rec["curves"]:
            arms[arm_name(arm_of(rec["run"]))].append(rec)
    for axis in ("step", "FLOPs"):
        fig, ax = plt.subplots(figsize=(8, 5))
        for name, recs in sorted(arms.items()):
            steps = [s for s, _ in recs[0]["curves"]["val/bpb"]]
            curves = np.array(
                [
                    [v for _, v in r["curves"]["val/bpb"]][: len(steps)]
                    for r in recs
                    if len(r["curves"]["val/bpb"]) >= len(steps)
                ]
            )
            x = np.array(steps, dtype=float) + 1
            if axis == "FLOPs":
                x = x * recs[0]["final"].get("model/flops_per_batch", math.nan)
            ax.plot(x, curves.mean(0), label=f"{name} (n={len(curves)})")
            ax.fill_between(x, curves.min(0), curves.max(0), alpha=0.2)
        ax.set_xlabel("training FLOPs" if axis == "FLOPs" else "step")
        ax.set_ylabel("val bpb (mean over seeds, band = min–max)")
        ax.legend(fontsize=6)
        path = folder / f"bpb_vs_{axis.lower()}.png"
        fig.tight_layout()
        fig.savefig(path, dpi=120)
        plt.close(fig)
        written.append(path)
    by_door = defaultdict(list)
    for r, rec in ((r, next(x for x in records if arm_name(arm_of(x["run"])) == r["arm"])) for r in rows):
        arm = arm_of(rec["run"])
        if "K" in arm:
            by_door[arm.get("door", "?")].append((arm["K"], r))
    if any(len(v) > 1 for v in by_door.values()):
        panels = [
            ("val/text_bpb", "text bpb"),
            ("val/caption_bpb", "caption bpb"),
            ("val/binding_gap", "binding gap"),
            ("bytes/s", "bytes/s"),
            ("peak memory MB", "peak memory MB"),
        ]
        fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.5))
        for ax, (key, label) in zip(axes, panels, strict=True):
            for door, pts in sorted(by_door.items()):
                pts = sorted(pts, key=lambda t: t[0])
                ys = [p[key]["mean"] if isinstance(p.get(key), dict) else p.get(key, math.nan) for _, p in pts]
                ax.plot([k for k, _ in pts], ys, marker="o", label=door)
            ax.set_xlabel("K (bytes per slot)")
            ax.set_title(label)
        axes[0].legend(fontsize=6)
        path = folder / "k_sweep.png"
        fig.tight_layout()
        fig.savefig(path, dpi=120)
        plt.close(fig)
        written.append(path)
    segments = [m for m in METRICS if m.endswith("_bpb") and m != "val/bpb" and any(m in r for r in rows)]
    if segments and len(rows) > 1:
        fig, ax = plt.subplots(figsize=(1.6 * len(segments) + 3, 0.4 * len(rows) + 1.5))
        grid = np.array([[r[m]["mean"] if m in r else math.nan for m in segments] for r in rows])
        im = ax.imshow(grid, aspect="auto", cmap="viridis_r")
        ax.set_xticks(range(len(segments)), [m.split("/")[1] for m in segments])
        ax.set_yticks(range(len(rows)), [r["arm"] for r in rows], fontsize=6)
        for (i, j), v in np.ndenumerate(grid):
            if not math.isnan(v):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=6, color="w")
        fig.colorbar(im, label="val bpb")
        path = folder / "door_modality.png"
        fig.tight_layout()
        fig.savefig(path, dpi=120)
        plt.close(fig)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    p = CommandParser(prog="holozero report", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", help="the sweep's --out folder")
    args = p.parse_args(argv)
    out = Path(args.out)
    if not (out / "spec.yaml").exists():
        raise SystemExit(f"{out} is not a sweep folder (no spec.yaml)")
    spec, records = collect(out)
    rows = summarize(spec, records)
    folder = out / "report"
    folder.mkdir(exist_ok=True)
    write_tables(rows, records, folder, spec)
    pngs = plot(records, rows, folder)
    (folder / "summary.json").write_text(json.dumps(rows, indent=1, default=float))
    print(f"holozero report: {folder / 'report.md'}, {folder / 'report.csv'}, {len(pngs)} plots")
