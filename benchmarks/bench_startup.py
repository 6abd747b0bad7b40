"""Start-up of the holozero commands against bare imports, measured in the same run.

    python benchmarks/bench_startup.py            # median of 7 interleaved runs of each
    python benchmarks/bench_startup.py --quick    # 2 runs each

Each command runs in a fresh process, from a temporary directory, as a user types it; its
peer is the bare import it cannot avoid: ``python -c "import torch"`` for the commands that
need no Lightning (top-level help, report, sweep --emit, export), ``python -c "import
lightning"`` for ``fit --print_config`` (which builds the whole LightningCLI parser).
Targets (issue #16): within 1.5× the torch import and 1.2× the Lightning import.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HOLOZERO = [sys.executable, "-m", "holozero"]
TORCH = ("python -c 'import torch'", [sys.executable, "-c", "import torch"], 1.5)
LIGHTNING = ("python -c 'import lightning'", [sys.executable, "-c", "import lightning"], 1.2)


def commands(tmp: Path) -> list[tuple[str, list[str], tuple]]:
    """(label, argv, peer) of every command measured."""
    smoke = str(ROOT / "configs/sweeps/smoke.yaml")
    rows = [
        ("holozero --help", [*HOLOZERO, "--help"], TORCH),
        ("holozero report --help", [*HOLOZERO, "report", "--help"], TORCH),
        (
            "holozero sweep configs/sweeps/smoke.yaml --emit commands",
            [*HOLOZERO, "sweep", smoke, "--out", str(tmp / "sweep"), "--emit", "commands"],
            TORCH,
        ),
    ]
    if (ROOT / "holozero" / "commands" / "export.py").exists():
        rows.append(("holozero export --help", [*HOLOZERO, "export", "--help"], TORCH))
    rows.append(
        (
            "holozero fit --config configs/quickstart.yaml --print_config",
            [*HOLOZERO, "fit", "--config", str(ROOT / "configs/quickstart.yaml"), "--print_config"],
            LIGHTNING,
        )
    )
    return rows


def seconds(argv: list[str], cwd: Path) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    repeats = 2 if args.quick else args.repeats
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        rows = commands(tmp)
        peers = {peer[0]: peer for _, _, peer in rows}
        jobs = [(label, argv) for label, argv, _ in rows] + [(label, argv) for label, argv, _ in peers.values()]
        for _, argv in jobs:  # warm the file cache and the bytecode of every command once
            seconds(argv, tmp)
        times: dict[str, list[float]] = {label: [] for label, _ in jobs}
        for _ in range(repeats):  # interleaved, so a busy moment of a shared machine hits all alike
            for label, argv in jobs:
                times[label].append(seconds(argv, tmp))
    median = {label: statistics.median(t) for label, t in times.items()}
    print(f"machine: {describe()}; load average {load_before:.2f} → {os.getloadavg()[0]:.2f}")
    print(f"median of {repeats} interleaved runs, each a fresh process, cwd a temporary directory")
    print("| command | median s | peer | peer median s | ratio | target | met |")
    print("|---|---|---|---|---|---|---|")
    for label, _, (peer, _, target) in rows:
        ratio = median[label] / median[peer]
        met = "yes" if ratio <= target else "NO"
        cells = [f"`{label}`", f"{median[label]:.2f}", f"`{peer}`", f"{median[peer]:.2f}", f"{ratio:.2f}×"]
        print("| " + " | ".join([*cells, f"≤ {target}×", met]) + " |")


if __name__ == "__main__":
    main()
