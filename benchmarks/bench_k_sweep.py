"""Training-step time, window bytes/s and peak memory against K at a fixed window.

    python benchmarks/bench_k_sweep.py            # 3 interleaved rounds × 3 timed steps per K
    python benchmarks/bench_k_sweep.py --quick    # smoke run

Window: 512 prefix + 256 stream bytes, batch 4, the published body (dim 512, 6 layers,
8 heads). K=1 is the per-byte baseline (``ByteModel(per_byte=True)``: all 768 bytes in the
stream, the last 256 scored); K = 2, 4, 8, 16, 18 use the zero door (K·27 ≤ 512; K=18
pads the last slot). One step = forward + cross-entropy + backward + AdamW (fused).

Each (round, K) runs in a fresh subprocess, so its peak memory is its own: torch's CPU
allocations are invisible to tracemalloc, so memory here is **peak RSS growth** — the
process's ``ru_maxrss`` after the steps minus its ``ru_maxrss`` once model and optimizer
are built (activations, gradients, AdamW state, allocator slack). Rounds loop over all K,
so drift on a shared machine hits every K alike; the table gives medians over rounds.
Target (issue #8): K=8 processes ≥ 2× the window bytes/s of K=1.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe  # noqa: E402

from holozero.doors import ZeroDoor  # noqa: E402
from holozero.specials import NUM_CLASSES  # noqa: E402
from models.byte_model import ByteModel  # noqa: E402
from models.decoder import Decoder  # noqa: E402

KS = (1, 2, 4, 8, 16, 18)
FULL = dict(B=4, C=512, S=256, dim=512, n_layers=6, n_heads=8)
QUICK = dict(B=2, C=64, S=32, dim=512, n_layers=1, n_heads=8)


def worker(K: int, steps: int, B: int, C: int, S: int, dim: int, n_layers: int, n_heads: int) -> dict:
    """Time `steps` training steps after one warm-up; report seconds and peak RSS growth."""
    torch.manual_seed(0)
    net = ByteModel(ZeroDoor(K=K, dim=dim), Decoder(dim, n_layers, n_heads), per_byte=K == 1).train()
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.1, fused=True)
    ids = torch.randint(0, 256, (B, C + S))
    base_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux

    def step() -> None:
        logits, _ = net(ids, S)
        assert logits.shape == (B, S, NUM_CLASSES)
        F.cross_entropy(logits.reshape(-1, NUM_CLASSES), ids[:, -S:].reshape(-1)).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    step()  # warm-up: AdamW state, allocator
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    positions = C + S if K == 1 else -(-C // K) + S
    return {"K": K, "positions": positions, "step_s": statistics.median(times), "rss_mib": (peak_kib - base_kib) / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one round, tiny body (smoke test)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=3, help="timed steps per subprocess (after one warm-up)")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)  # comma-separated Ks
    args = parser.parse_args()
    shape = QUICK if args.quick else FULL

    if args.worker is not None:
        print(json.dumps([worker(int(K), args.steps, **shape) for K in args.worker.split(",")]))
        return

    rounds, steps = (1, 1) if args.quick else (args.rounds, args.steps)
    load = os.getloadavg()[0]
    # --quick: one process for all K (seconds, not isolated memory figures); otherwise one per K
    groups = [KS] if args.quick else [(K,) for K in KS]
    runs: dict[int, list[dict]] = {K: [] for K in KS}
    for _ in range(rounds):
        for group in groups:
            cmd = [sys.executable, __file__, "--worker", ",".join(map(str, group)), "--steps", str(steps)]
            out = subprocess.run(cmd + ["--quick"] * args.quick, check=True, capture_output=True, text=True).stdout
            for r in json.loads(out.strip().splitlines()[-1]):
                runs[r["K"]].append(r)

    window = shape["B"] * (shape["C"] + shape["S"])
    rate = {K: window / statistics.median(r["step_s"] for r in runs[K]) for K in KS}
    print(f"machine: {describe()}; load average {load:.2f} → {os.getloadavg()[0]:.2f}")
    print(
        f"window {shape['C']}+{shape['S']} bytes, batch {shape['B']}, dim {shape['dim']}, {shape['n_layers']} layers, "
        f"{shape['n_heads']} heads; medians over {rounds} rounds × {steps} timed steps "
        + ("(smoke run: one process for all K)" if args.quick else "(fresh process per round and K)")
    )
    print("| K | door | positions | step ms | window bytes/s | vs K=1 | peak RSS growth MiB | target | met |")
    print("|---|---|---|---|---|---|---|---|---|")
    for K in KS:
        step_ms = statistics.median(r["step_s"] for r in runs[K]) * 1e3
        rss = statistics.median(r["rss_mib"] for r in runs[K])
        speedup = rate[K] / rate[1]
        door = "per-byte baseline" if K == 1 else "zero"
        target, met = ("≥ 2×", "yes" if speedup >= 2 else "NO") if K == 8 else ("", "")
        print(
            f"| {K} | {door} | {runs[K][0]['positions']} | {step_ms:.0f} | {rate[K]:,.0f} | {speedup:.2f}× | "
            f"{rss:.0f} | {target} | {met} |"
        )


if __name__ == "__main__":
    main()
