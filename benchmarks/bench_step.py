"""The whole quickstart training step as achieved FLOP/s against the machine's dense matmul, in the same run.

    python benchmarks/bench_step.py            # 20 interleaved rounds
    python benchmarks/bench_step.py --quick    # smoke run

One step = zero door (split_window) + decoder body + cross-entropy + backward + AdamW
(fused) at the quickstart shape: B=16 text windows of 128 prefix + 64 stream bytes, K=8
(16 slots + 64 stream = 80 positions), dim 256, 4 layers, 4 heads. Its FLOPs (forward +
backward of door + body, as models/byte_lm.py counts them; the loss and the optimizer are
not counted) come from ``measure_flops`` on the meta device. The peak is the best of the
``torch.mm`` runs of two 2048×2048 float32 matrices (2·n³ FLOPs) interleaved with the steps.
The door alone is ``split_window`` on the same ids (no grad needed: it has no parameters).

Targets (issue #8): step ≥ 50% of the matmul peak; door < 2% of the step time. A missed
FLOP target prints a profile (top ops by self CPU time) to show where the time goes.
"""

import argparse
import copy
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from lightning.fabric.utilities.throughput import measure_flops

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe  # noqa: E402

from holozero.doors import ZeroDoor  # noqa: E402
from holozero.specials import NUM_CLASSES, PAD  # noqa: E402
from models.byte_model import ByteModel  # noqa: E402
from models.decoder import Decoder  # noqa: E402


def build(B: int, C: int, S: int, K: int, dim: int, n_layers: int, n_heads: int):
    torch.manual_seed(0)
    net = ByteModel(ZeroDoor(K=K, dim=dim), Decoder(dim, n_layers, n_heads)).train()
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, betas=(0.9, 0.95), weight_decay=0.1, fused=True)
    ids = torch.randint(0, 256, (B, C + S))

    def step() -> None:
        logits, _ = net(ids, S)
        F.cross_entropy(logits.reshape(-1, NUM_CLASSES), ids[:, -S:].reshape(-1), ignore_index=PAD).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    with torch.device("meta"):
        meta = copy.deepcopy(net).to("meta")
    meta_ids = torch.zeros(B, C + S, dtype=torch.long, device="meta")
    flops = measure_flops(meta, lambda: meta(meta_ids, S)[0], loss_fn=torch.Tensor.sum)
    return net, ids, step, flops


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="few rounds at a tiny shape (smoke test)")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    if args.quick:
        (B, C, S, K, dim, n_layers, n_heads), n, runs = (2, 32, 16, 8, 256, 1, 4), 512, 3
    else:
        (B, C, S, K, dim, n_layers, n_heads), n, runs = (16, 128, 64, 8, 256, 4, 4), 2048, max(args.runs, 10)
    load = os.getloadavg()[0]
    net, ids, step, flops = build(B, C, S, K, dim, n_layers, n_heads)
    a, b = torch.randn(n, n), torch.randn(n, n)

    def matmul() -> None:
        torch.mm(a, b)

    def door() -> None:
        net.door.split_window(ids, C)

    for fn in (matmul, step, door, step):  # warm-up (AdamW state, allocator, caches)
        fn()
    t_mm, t_step, t_door = [], [], []
    for _ in range(runs):  # interleaved, so drift on a shared machine hits all alike
        t_mm.append(timed(matmul))
        t_step.append(timed(step))
        t_door.append(timed(door))
    peak = 2 * n**3 / min(t_mm)
    m_step, m_door = statistics.median(t_step), statistics.median(t_door)
    achieved = flops / m_step
    frac, door_frac = achieved / peak, m_door / m_step

    print(f"machine: {describe()}; load average {load:.2f} → {os.getloadavg()[0]:.2f}")
    print(
        f"B={B}, window {C}+{S} bytes, K={K} → {C // K}+{S} positions, dim {dim}, {n_layers} layers, "
        f"{n_heads} heads; {flops / 1e9:.2f} GFLOP per step (forward + backward); {runs} interleaved rounds"
    )
    print("| what | median ms | GFLOP/s | fraction | target | met |")
    print("|---|---|---|---|---|---|")
    print(f"| torch.mm {n}×{n} float32 (best of {runs}) | {min(t_mm) * 1e3:.2f} | {peak / 1e9:.1f} | 100% | | |")
    print(
        f"| training step (door + body + loss + AdamW) | {m_step * 1e3:.2f} | {achieved / 1e9:.1f} | "
        f"{frac:.1%} of mm | ≥ 50% | {'yes' if frac >= 0.5 else 'NO'} |"
    )
    print(
        f"| door split_window alone | {m_door * 1e3:.3f} | | {door_frac:.2%} of step | < 2% | "
        f"{'yes' if door_frac < 0.02 else 'NO'} |"
    )
    if frac < 0.5:
        from torch.profiler import ProfilerActivity, profile

        n_prof = 2 if args.quick else 5
        warnings.filterwarnings("ignore", message=".*Profiler clears events")
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(n_prof):
                step()
        print(f"\nFLOP target missed; where the time goes ({n_prof} steps, top ops by self CPU time):\n")
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15, max_name_column_width=50))


if __name__ == "__main__":
    main()
