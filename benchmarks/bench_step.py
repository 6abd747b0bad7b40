"""The whole quickstart training step as achieved FLOP/s against the machine's dense matmul, in the same run.

    python benchmarks/bench_step.py                 # 20 interleaved rounds, eager
    python benchmarks/bench_step.py --compile       # also the step under torch.compile
    python benchmarks/bench_step.py --wait-quiet 20
    python benchmarks/bench_step.py --threads 1 --clock cpu   # robust to other jobs on the machine
    python benchmarks/bench_step.py --quick         # smoke run

One step = zero door (split_window) + decoder body + cross-entropy + backward + AdamW
(fused) at the quickstart text shape: B=16 windows of 128 prefix + 64 stream bytes, K=8
(16 slots + 64 stream = 80 positions), dim 256, 4 layers, 4 heads. Its FLOPs (forward +
backward of door + body, as models/byte_lm.py counts them; the loss and the optimizer are
not counted) come from ``measure_flops`` on the meta device. The peak is the best of the
``torch.mm`` runs of two 2048×2048 float32 matrices (2·n³ FLOPs) interleaved with the steps.
The door alone is ``split_window`` on the same ids (no grad needed: it has no parameters).
For reference, the same product through oneDNN (the build's other fp32 GEMM; see
bench_gemm.py) is timed too: on CPUs where MKL does not run its fastest code path, it shows
how far torch.mm itself is from the machine; and the same step with the body's Linear layers
on oneDNN (``gemm: onednn``, models/gemm.py), against both peaks.

Targets (issue #18): step ≥ 60% of the matmul peak; door < 2% of the step time. A profile of
the eager step, grouped into matmuls / attention / elementwise / optimizer / loss / the rest,
shows where the time goes.
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
from machine import OthersMeter, describe, wait_for_quiet  # noqa: E402

from holozero.doors import ZeroDoor  # noqa: E402
from holozero.specials import NUM_CLASSES, PAD  # noqa: E402
from models.byte_model import ByteModel  # noqa: E402
from models.decoder import Decoder  # noqa: E402
from models.gemm import onednn_available, onednn_mm  # noqa: E402

TARGET = 0.60

# profiler op name -> group (first match wins); self CPU time is summed per group
GROUPS = [
    ("matmul (Linear layers, head)", ("aten::mm", "aten::addmm", "aten::bmm", "aten::matmul")),
    ("attention (SDPA kernels)", ("scaled_dot_product", "flash_attention")),
    ("optimizer (fused AdamW, zero_grad)", ("adamw", "Optimizer", "_fused_adam")),
    ("loss (log-softmax, NLL)", ("log_softmax", "nll_loss")),
    ("norms (LayerNorm)", ("layer_norm",)),
    ("elementwise (rotary, SwiGLU, residual adds, door features)", ("mul", "addcmul", "silu", "add", "sub", "div")),
    ("copies and fills", ("copy_", "fill_", "zero_", "cat", "clone", "empty")),
]


def build(B: int, C: int, S: int, K: int, dim: int, n_layers: int, n_heads: int, gemm: str = "aten"):
    torch.manual_seed(0)
    net = ByteModel(ZeroDoor(K=K, dim=dim), Decoder(dim, n_layers, n_heads, gemm=gemm)).train()
    ids = torch.randint(0, 256, (B, C + S))
    with torch.device("meta"):
        meta = copy.deepcopy(net).to("meta")
    meta_ids = torch.zeros(B, C + S, dtype=torch.long, device="meta")
    flops = measure_flops(meta, lambda: meta(meta_ids, S)[0], loss_fn=torch.Tensor.sum)
    return net, ids, flops


def make_step(net, ids: torch.Tensor, S: int, compiled: bool):
    """A training step closure over its own copy of the network and its own AdamW."""
    net = copy.deepcopy(net)
    run = torch.compile(net) if compiled else net
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, betas=(0.9, 0.95), weight_decay=0.1, fused=True)

    def step() -> None:
        logits, _ = run(ids, S)
        F.cross_entropy(logits.reshape(-1, NUM_CLASSES), ids[:, -S:].reshape(-1), ignore_index=PAD).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    return step


CLOCK = time.perf_counter  # or time.process_time (--clock cpu: other jobs cost wall time, not CPU time)


def timed(fn) -> float:
    t0 = CLOCK()
    fn()
    return CLOCK() - t0


def grouped_profile(step, n: int) -> tuple[list[tuple[str, float]], float]:
    """[(group, ms per step)], total self CPU ms per step, from the torch profiler."""
    from torch.profiler import ProfilerActivity, profile

    warnings.filterwarnings("ignore", message=".*Profiler clears events")
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(n):
            step()
    sums = {g: 0.0 for g, _ in GROUPS} | {"the rest (autograd, views, Python)": 0.0}
    for event in prof.key_averages():
        name = event.key
        group = next((g for g, keys in GROUPS if any(k in name for k in keys)), "the rest (autograd, views, Python)")
        sums[group] += event.self_cpu_time_total / 1e3 / n
    total = sum(sums.values())
    return sorted(sums.items(), key=lambda kv: -kv[1]), total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="few rounds at a tiny shape (smoke test)")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--compile", action="store_true", help="also time the step under torch.compile")
    parser.add_argument("--wait-quiet", type=float, default=0, metavar="S")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's, one per core)")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall", help="cpu: process CPU time per call")
    args = parser.parse_args()

    global CLOCK
    if args.threads:
        torch.set_num_threads(args.threads)
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    if args.compile and args.clock == "cpu":
        parser.error("--compile needs the wall clock (compiled kernels' threads skew CPU time)")

    if args.quick:
        (B, C, S, K, dim, n_layers, n_heads), n, runs = (2, 32, 16, 8, 256, 1, 4), 512, 3
    else:
        (B, C, S, K, dim, n_layers, n_heads), n, runs = (16, 128, 64, 8, 256, 4, 4), 2048, max(args.runs, 10)
    quiet = wait_for_quiet(args.wait_quiet)
    load, others = os.getloadavg()[0], OthersMeter()
    net, ids, flops = build(B, C, S, K, dim, n_layers, n_heads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    fns = {"matmul": lambda: torch.mm(a, b), "step": make_step(net, ids, S, compiled=False)}
    if onednn_available():  # the build's other fp32 GEMM (bench_gemm.py), and the same network on it
        b_t = b.t().contiguous()
        fns["onednn"] = lambda: onednn_mm(a, b_t)
        fns["step, gemm: onednn"] = make_step(build(B, C, S, K, dim, n_layers, n_heads, "onednn")[0], ids, S, False)
    fns["door"] = lambda: net.door.split_window(ids, C)
    compile_s = None
    if args.compile:
        fns["compiled step"] = make_step(net, ids, S, compiled=True)
        compile_s = timed(fns["compiled step"])
    for fn in list(fns.values()) * 2:  # warm-up (AdamW state, allocator, caches)
        fn()
    times = {k: [] for k in fns}
    for _ in range(runs):  # interleaved, so drift on a shared machine hits all alike
        for k, fn in fns.items():
            times[k].append(timed(fn))
    peak = 2 * n**3 / min(times["matmul"])
    med = {k: statistics.median(v) for k, v in times.items()}
    door_frac = med["door"] / med["step"]

    print(f"machine: {describe()}; load average {load:.2f} → {os.getloadavg()[0]:.2f}")
    print(f"{quiet}; other processes used {others.read():.2f} cores on average while it ran")
    print(
        f"B={B}, window {C}+{S} bytes, K={K} → {C // K}+{S} positions, dim {dim}, {n_layers} layers, "
        f"{n_heads} heads; {flops / 1e9:.2f} GFLOP per step (forward + backward); {runs} interleaved rounds, "
        f"{args.clock} clock"
    )
    print("| what | median ms | GFLOP/s | fraction | target | met |")
    print("|---|---|---|---|---|---|")
    best_mm = min(times["matmul"]) * 1e3
    print(f"| torch.mm {n}×{n} float32 (best of {runs}) | {best_mm:.2f} | {peak / 1e9:.1f} | 100% | | |")
    if "onednn" in times:
        dnn = 2 * n**3 / min(times["onednn"])
        print(
            f"| oneDNN {n}×{n} float32, same build (best of {runs}) | {min(times['onednn']) * 1e3:.2f} | "
            f"{dnn / 1e9:.1f} | {dnn / peak:.0%} of mm | | |"
        )
    for label in ("step", "step, gemm: onednn", "compiled step"):
        if label in med:
            frac = flops / med[label] / peak
            what = (
                "training step (door + body + loss + AdamW)"
                + {
                    "step": "",
                    "step, gemm: onednn": ", Linear layers on oneDNN",
                    "compiled step": ", torch.compile",
                }[label]
            )
            print(
                f"| {what} | {med[label] * 1e3:.2f} | {flops / med[label] / 1e9:.1f} | {frac:.1%} of mm | "
                f"≥ {TARGET:.0%} | {'yes' if frac >= TARGET else 'NO'} |"
            )
    print(
        f"| door split_window alone | {med['door'] * 1e3:.3f} | | {door_frac:.2%} of step | < 2% | "
        f"{'yes' if door_frac < 0.02 else 'NO'} |"
    )
    if compile_s is not None:
        print(f"first compiled step (compiles forward + backward): {compile_s:.1f} s")

    n_prof = 2 if args.quick else 5
    groups, total = grouped_profile(fns["step"], n_prof)
    print(f"\nwhere the eager step's time goes (torch.profiler, self CPU time, mean of {n_prof} steps):\n")
    print("| group | ms per step | share |")
    print("|---|---|---|")
    for group, ms in groups:
        print(f"| {group} | {ms:.1f} | {ms / total:.1%} |")
    print(f"| total (profiled; the profiler itself slows ops) | {total:.1f} | 100% |")


if __name__ == "__main__":
    main()
