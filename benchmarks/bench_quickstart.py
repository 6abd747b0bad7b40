"""The quickstart end to end, from a fresh corpus cache, and where its time goes.

    python benchmarks/bench_quickstart.py                       # configs/quickstart.yaml
    python benchmarks/bench_quickstart.py --wait-quiet 20
    python benchmarks/bench_quickstart.py --quick               # smoke run: 12 steps, 1 validation
    python benchmarks/bench_quickstart.py -- --model.compile true   # extra ``holozero fit`` flags after --

Runs ``holozero fit --config configs/quickstart.yaml`` in a subprocess with HOLOZERO_CACHE and
the run folder in a new empty temporary directory (so the embedded corpus is built, as on a
first run), and a PhaseTimer callback (phase_timer.py) added with ``--trainer.callbacks+=``.
Phases: start-up (imports, config) until the corpus build starts; the corpus build (from the
build's first log line to its last); the rest of data setup; training steps; validation
batches; validation epoch-end work (metrics, probes, binding gap, attribution); the rest
(sanity check, checkpoints, logging, exit). The subprocess's CPU time (user + system) is
reported beside its wall time: on a machine shared with other jobs, CPU time / 2 cores is a
fair estimate of the quiet wall time of a process that keeps both cores busy.

Target (issue #18): ≤ 4 minutes wall on 2 quiet cores.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import OthersMeter, describe, wait_for_quiet  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TARGET_S = 240
CORPUS_FIRST, CORPUS_LAST = "building the default text corpus", "demo corpus: 100%"  # first / last line of the build


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=str(ROOT / "configs" / "quickstart.yaml"))
    parser.add_argument("--quick", action="store_true", help="12 steps, one validation (smoke test)")
    parser.add_argument("--wait-quiet", type=float, default=0, metavar="S")
    parser.add_argument("--keep-log", type=Path, help="write the run's output here")
    parser.add_argument("extra", nargs="*", help="extra holozero fit flags (after --)")
    args = parser.parse_args()

    quiet = wait_for_quiet(args.wait_quiet)
    tmp = Path(tempfile.mkdtemp(prefix="hz-quickstart-"))
    timings = tmp / "phases.json"
    env = dict(os.environ, HOLOZERO_CACHE=str(tmp / "cache"), PHASE_TIMER_OUT=str(timings))
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), str(ROOT), env.get("PYTHONPATH", "")])
    cmd = [sys.executable, "-m", "holozero", "fit", "--config", args.config]
    cmd += ["--trainer.default_root_dir", str(tmp / "runs"), "--trainer.callbacks+=phase_timer.PhaseTimer"]
    if args.quick:
        cmd += ["--trainer.max_steps", "12", "--trainer.val_check_interval", "12"]
    cmd += args.extra
    load, others = os.getloadavg()[0], OthersMeter()
    t0 = time.time()
    lines = []  # (time, line) as the run prints them
    proc = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    buf = ""
    while chunk := os.read(proc.stdout.fileno(), 65536):
        buf += chunk.decode(errors="replace")
        *done, buf = buf.replace("\r", "\n").split("\n")
        lines += [(time.time(), line) for line in done if line.strip()]
    rc = proc.wait()
    t_end = time.time()
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    if args.keep_log:
        args.keep_log.write_text("\n".join(f"{t - t0:8.2f} {line}" for t, line in lines))
    if rc != 0:
        print("\n".join(line for _, line in lines[-40:]))
        print(f"holozero fit failed (exit {rc})", file=sys.stderr)
        return rc
    ph = json.loads(timings.read_text())
    first = next((t for t, line in lines if CORPUS_FIRST in line), None)
    last = max((t for t, line in lines if CORPUS_LAST in line), default=None)
    setup_done = ph["t"]["setup_done"]
    train_s = sum(s for _, s in ph["train"])
    val = [v for v in ph["val"] if not v["sanity"]]
    by_shape = defaultdict(list)
    for shape, s in ph["train"]:
        by_shape[tuple(shape)].append(s)
    val_batches_s = sum(v["batches_s"] for v in val)
    val_rest_s = sum(v["s"] - v["batches_s"] for v in val)
    sanity_s = sum(v["s"] for v in ph["val"] if v["sanity"])

    rows = []
    if first is not None and last is not None:
        rows += [
            ("start-up (imports, config, until the corpus build)", first - t0),
            ("corpus build (text + demo corpus, first run only)", last - first),
            ("rest of data setup (windows, splits)", setup_done - last),
        ]
    else:
        rows += [("start-up and data setup (corpus already built?)", setup_done - t0)]
    quiet_train = sum(len(ts) * sorted(ts)[len(ts) // 2] for ts in by_shape.values())
    rows += [
        (f"training steps ({len(ph['train'])} batches)", train_s),
        (f"validation batches ({len(val)} passes)", val_batches_s),
        ("validation epoch-end work (metrics, probes, binding, attribution)", val_rest_s),
        ("sanity-check validation", sanity_s),
    ]
    rows.append(("the rest (loop overhead, logging, checkpoints, exit)", (t_end - t0) - sum(s for _, s in rows)))
    total, cpu_s = t_end - t0, cpu.ru_utime + cpu.ru_stime
    print(f"machine: {describe()}; load average {load:.2f} → {os.getloadavg()[0]:.2f}")
    print(f"{quiet}; other processes used {others.read():.2f} cores on average while it ran")
    print(f"command: HOLOZERO_CACHE=<empty tmp> {' '.join(cmd[1:])}")
    print("| phase | wall s | share |")
    print("|---|---|---|")
    for name, s in rows:
        print(f"| {name} | {s:.1f} | {s / total:.0%} |")
    print(f"| **total** | **{total:.1f}** | 100% |")
    print(
        f"CPU time (user + system) {cpu_s:.0f} s → {cpu_s / 2:.0f} s on 2 busy cores; "
        f"target ≤ {TARGET_S} s wall on 2 quiet cores: {'met' if total <= TARGET_S else 'NOT met'} as measured"
    )
    print(
        f"training steps at each layout's median step time (what a run without spikes would take): {quiet_train:.0f} s"
    )
    print(
        "\nvalidation epoch-end work by callback: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in ph["epoch_end"].items() if v >= 0.05)
    )
    print("\ntraining step by window layout: | ids shape | steps | median ms |")
    for shape, ts in sorted(by_shape.items(), key=lambda kv: -len(kv[1])):
        print(f"| {shape} | {len(ts)} | {sorted(ts)[len(ts) // 2] * 1e3:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
