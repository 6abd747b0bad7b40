"""float32 GEMM rate of the two CPU libraries in a torch build, at the body's own Linear shapes.

    python benchmarks/bench_gemm.py
    python benchmarks/bench_gemm.py --quick

Every Linear of the body (and of nn.TransformerEncoder) runs ``aten::mm``, which is MKL's
sgemm in the x86 wheels. oneDNN (``torch.ops.mkldnn._linear_pointwise``, the kernel
Inductor's CPU fusions call) is the other fp32 GEMM in the same build. MKL chooses its code
path by CPU vendor; oneDNN by instruction set. This script measures both on this machine,
interleaved, at the quickstart body's shapes (1280 tokens × dim 256, three per Linear: the
forward, the input gradient and the weight gradient) and at 2048³, and checks they agree to
float32 tolerance. It measures a fact about the machine.

What that is worth to the body and the training step: ``gemm: onednn`` (models/gemm.py)
routes the body's Linear layers through the same oneDNN op; bench_body.py and bench_step.py
time it against the default (aten::mm) in the same run.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import OthersMeter, describe, wait_for_quiet  # noqa: E402

from models.gemm import onednn_mm as onednn  # noqa: E402  (a @ b_t.T: the op the body runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--wait-quiet", type=float, default=0, metavar="S")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's, one per core)")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall", help="cpu: process CPU time per run")
    args = parser.parse_args()
    runs = 3 if args.quick else args.runs
    if args.threads:
        torch.set_num_threads(args.threads)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter

    # (what, M, K, N): C[M, N] = A[M, K] @ B[K, N]; tokens 1280 = the quickstart batch (16 × 80)
    cases = [("2048³", 2048, 2048, 2048)]
    if not args.quick:
        cases += [
            ("gate_up forward (1280×256 @ 256×2048)", 1280, 256, 2048),
            ("gate_up input grad (1280×2048 @ 2048×256)", 1280, 2048, 256),
            ("gate_up weight grad (2048×1280 @ 1280×256)", 2048, 1280, 256),
            ("qkv forward (1280×256 @ 256×768)", 1280, 256, 768),
        ]
    quiet = wait_for_quiet(args.wait_quiet)
    load, others = os.getloadavg()[0], OthersMeter()
    rows = []
    for what, M, K, N in cases:
        a, b = torch.randn(M, K), torch.randn(K, N)
        b_t = b.t().contiguous()  # oneDNN's weight layout [N, K]
        err = (onednn(a, b_t) - a @ b).abs().max().item() / (a @ b).abs().max().item()
        fns = {"mkl": lambda a=a, b=b: torch.mm(a, b), "onednn": lambda a=a, b_t=b_t: onednn(a, b_t)}
        for fn in fns.values():
            fn()
        times = {k: [] for k in fns}
        for _ in range(runs):
            for k, fn in fns.items():
                t0 = clock()
                fn()
                times[k].append(clock() - t0)
        flops = 2 * M * K * N
        rate = {k: flops / statistics.median(v) / 1e9 for k, v in times.items()}
        rows.append((what, rate["mkl"], rate["onednn"], err))
    print(f"machine: {describe()}; load average {load:.2f} → {os.getloadavg()[0]:.2f}")
    print(f"{quiet}; other processes used {others.read():.2f} cores on average while it ran")
    print(f"median of {runs} interleaved runs, {args.clock} clock")
    print("| GEMM (float32) | torch.mm (MKL) GFLOP/s | oneDNN GFLOP/s | oneDNN / MKL | max relative difference |")
    print("|---|---|---|---|---|")
    for what, mkl, dnn, err in rows:
        print(f"| {what} | {mkl:.0f} | {dnn:.0f} | {dnn / mkl:.2f}× | {err:.1e} |")


if __name__ == "__main__":
    main()
