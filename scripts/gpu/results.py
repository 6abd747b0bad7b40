"""What the campaign returns, rewritten whole after every step so a kill at any moment leaves
valid files: ``campaign.json`` (everything measured), ``campaign.md`` (the published table of
DESIGN.md §6 beside this campaign's, then throughput, tests and runs) and ``runs.tar.gz`` (the
sweep folder without checkpoints: spec, every run's events, configs, logs, probe and evaluate
JSON; ``holozero report`` reads it once unpacked). Each file is written beside its final name
and renamed over it (atomic on one filesystem); the table figures come from ``holozero
report``'s own collection of the runs' event files, never from the campaign's memory.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tarfile
from pathlib import Path

from holozero.commands.report import arm_name, collect, summarize
from holozero.commands.sweep import arm_of

from .probe import mfu

RETURN_LIMIT = 16 * 2**20  # bytes per returned file
# DESIGN.md §6: HoLo_ZeRo's published single run (seed 0), 3000 steps, K=8, ~25M body.
PUBLISHED = {
    "zero": {"text": 2.483, "caption": 1.503, "gap": 0.063, "params": "0"},
    "hsl_proj": {"text": 2.457, "caption": 1.329, "gap": 0.057, "params": "~125k"},
    "byte_embed": {"text": 2.848, "caption": 2.532, "gap": 0.080, "params": "~132k"},
}
COLUMNS = (("text bpb", "eval/text_bpb", "text"), ("caption bpb", "eval/caption_bpb", "caption"))
COLUMNS += (("binding gap", "test/binding_gap", "gap"),)
EXTRA = (("audio bpb", "eval/audio_bpb"), ("frame bpb", "eval/frame_bpb"))


def write_atomic(path: Path, data: bytes | str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data.encode() if isinstance(data, str) else data)
    os.replace(tmp, path)


def archive(work: Path, out: Path) -> int:
    """``out/runs.tar.gz``: ``spec.yaml`` and every run folder, checkpoints left out, and the
    probe workers' logs (the only account of a probe that failed)."""
    staged = work / "runs.tar.gz.staged"
    with tarfile.open(staged, "w:gz") as tar:
        tar.add(work / "spec.yaml", arcname="sweep/spec.yaml")
        for log in sorted((work / "probe").glob("worker*.log")):
            tar.add(log, arcname=f"probe/{log.name}")
        runs = work / "runs"
        for path in sorted(runs.rglob("*")) if runs.exists() else []:
            if path.is_file() and path.suffix != ".ckpt" and not path.name.endswith(".tmp"):
                tar.add(path, arcname=f"sweep/runs/{path.relative_to(runs)}")
    size = staged.stat().st_size
    if size > RETURN_LIMIT:  # never return nothing: the newest valid archive stays
        raise RuntimeError(f"runs archive {size:,} bytes exceeds the {RETURN_LIMIT:,}-byte return limit")
    tmp = out / ".runs.tar.gz.tmp"
    shutil.copyfile(staged, tmp)
    os.replace(tmp, out / "runs.tar.gz")
    return size


def table(work: Path) -> list[dict]:
    """``holozero report``'s rows (mean, 95% interval, paired Δ vs the zero door) of the runs so far."""
    if not (work / "spec.yaml").exists():
        return []
    spec, records = collect(work)
    rows = summarize(spec, records)
    arms = {arm_name(arm_of(r["run"])): arm_of(r["run"]) for r in records}
    return [r | {"arm_axes": arms[r["arm"]]} for r in rows]


def _cell(row: dict, metric: str) -> str:
    c = row.get(metric)
    if not isinstance(c, dict):
        return "–"
    half = c["high"] - c["mean"] if c["n"] > 1 else math.nan
    text = f"{c['mean']:.3f}" + (f" ± {half:.3f}" if not math.isnan(half) else "") + f" (n={c['n']})"
    pair = c.get("paired")
    return text + (f"; Δ {pair['diff']:+.3f}, p={pair['p']:.2g}" if pair else "")


def _published(door: str, key: str) -> str:
    value = PUBLISHED.get(door, {}).get(key)
    if value is None:
        return "–"
    return value if isinstance(value, str) else (f"{value:+.3f}" if key == "gap" else f"{value:.3f}")


def markdown(results: dict) -> str:
    c, dev = results["campaign"], results.get("device") or {}
    lines = [
        f"# GPU campaign ({c['settings']}): {dev.get('device', '?')}, precision {c['precision']}",
        "",
        f"Started {c['started']}, budget {c['budget_s']:.0f} s, {c.get('elapsed_s', 0):.0f} s so far"
        + (" (finished)" if c.get("finished") else " (in progress or killed)")
        + f". Stage: {c.get('stage', '?')}.",
        "",
        "Cells: mean ± 95% half-interval over the seeds done (n); Δ = arm − zero door over the same seeds "
        "(paired t-test p). bpb: the whole test split (`holozero evaluate`, fp32); binding gap: `holozero "
        "test` (fp32). Published: DESIGN.md §6 (one run, seed 0).",
    ]
    rows = results.get("table") or []
    for schedule, title in (("main", "the published schedule"), ("long", "the 4× schedule")):
        chosen = [r for r in rows if bool(r["arm_axes"].get("configs")) == (schedule == "long")]
        if not chosen:
            continue
        head = ["door", "done/planned", "learned input params (published)"]
        for label, _, _ in COLUMNS:
            head += [f"{label} (published)", label]
        head += [label for label, _ in EXTRA]
        lines += ["", f"## The five arms on {title}", "", "| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
        for r in chosen:
            door = r["arm_axes"]["door"]
            params = r.get("learned input params")
            cells = [door, f"{r['done']}/{r['planned']}"]
            cells.append(
                ("–" if params is None or math.isnan(params) else f"{params:,.0f}") + f" ({_published(door, 'params')})"
            )
            for _, metric, key in COLUMNS:
                cells += [_published(door, key) if schedule == "main" else "–", _cell(r, metric)]
            cells += [_cell(r, metric) for _, metric in EXTRA]
            lines.append("| " + " | ".join(cells) + " |")
    lines += throughput_lines(results) + test_lines(results) + run_lines(results)
    return "\n".join(lines) + "\n"


def throughput_lines(results: dict) -> list[str]:
    probe, dev = results.get("probe") or {}, results.get("device") or {}
    if not probe.get("phases"):
        return ["", "## Throughput", "", f"not measured: {probe.get('error', 'the probe did not run')}"]
    peak = dev.get("peak_matmul_flops")
    lines = ["", "## Throughput (real fits of the runs, probe phases)", ""]
    lines.append(
        f"Dense matmul peak measured here: {peak / 1e12:.1f} TFLOP/s ({dev.get('peak_dtype')}, "
        f"{dev.get('peak_matmul_n')}²); Lightning's table for this device: "
        + (f"{dev['datasheet_flops'] / 1e12:.0f} TFLOP/s." if dev.get("datasheet_flops") else "none.")
    )
    lines += ["", "| phase | runs at once | ms per step | MFU (sum) | throughput |", "|---|---|---|---|---|"]
    rates = {str(k): v for k, v in (probe.get("throughput") or {}).items()}
    for name, rows in probe["phases"].items():
        if not rows:
            continue
        by_arm: dict[str, list[float]] = {}
        for r in rows:
            by_arm.setdefault(r["arm"], []).append(r["step_s"] * 1e3)
        ms = ", ".join(f"{arm} {sum(v) / len(v):.1f}" for arm, v in by_arm.items())
        util = [mfu(r, peak) for r in rows]
        util_text = f"{sum(util):.1%}" if all(u is not None for u in util) else "–"
        level = name.split(":")[1] if name.startswith("level:") else ("1" if name == "alone:packed" else None)
        rate = f"{rates[level]:.1f} packed steps/s" if level in rates else ""
        lines.append(f"| {name} | {len(rows)} | {ms} | {util_text} | {rate} |")
    lines.append("")
    lines.append(f"Runs at once chosen: {probe.get('level')} (throughput in packed-step equivalents per second).")
    comp = probe.get("compile")
    if comp:
        lines.append(f"torch.compile: {'used' if comp['pays'] else 'not used'}: {comp['reason']}.")
    return lines


def test_lines(results: dict) -> list[str]:
    tests = results.get("tests")
    if not tests:
        return []
    return [
        "",
        "## GPU tests",
        "",
        f"`{tests.get('command', '')}`: {tests.get('summary', '?')} (exit {tests.get('returncode')})",
    ]


def run_lines(results: dict) -> list[str]:
    runs = results.get("runs") or []
    if not runs:
        return []
    lines = [
        "",
        "## Runs",
        "",
        "| run | status | predicted s | fit s | test s | evaluate s |",
        "|---|---|---|---|---|---|",
    ]
    for r in runs:
        cells = [r["id"], r.get("status", "?")] + [
            f"{r[k]:.0f}" if isinstance(r.get(k), float) else ""
            for k in ("predicted_s", "fit_s", "test_s", "evaluate_s")
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def write(results: dict, work: Path, out: Path) -> None:
    """campaign.json and campaign.md from the runs' files as they are now."""
    results["table"] = table(work)
    write_atomic(out / "campaign.json", json.dumps(results, indent=1, default=float))
    write_atomic(out / "campaign.md", markdown(results))
