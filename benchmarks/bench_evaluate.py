"""Whole-split evaluation bytes/s: ``holozero evaluate`` (windows batched by layout) against
the same bytes scored window by window in training-shaped windows, in the same run.

    python benchmarks/bench_evaluate.py            # 64 kB of text, the quickstart model shape
    python benchmarks/bench_evaluate.py --gemm onednn   # both sides on oneDNN (the quickstart's body)
    python benchmarks/bench_evaluate.py --quick

Both score every byte exactly once with the same windows (context 128, stride 64: the
quickstart's text layout) and must give the same bpb (checked); the peer runs one window
per forward, the way a loop over training windows would.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe  # noqa: E402

from holozero.doors import build_door  # noqa: E402
from holozero.evaluation import evaluate_sequences  # noqa: E402
from models import ByteModel, Decoder  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--bytes", type=int, default=65536)
    parser.add_argument("--gemm", choices=["aten", "onednn"], default="aten", help="the body's Linear GEMMs")
    args = parser.parse_args()
    n = 4096 if args.quick else args.bytes
    torch.manual_seed(0)
    net = ByteModel(build_door("zero", K=8, dim=256), Decoder(dim=256, n_layers=4, n_heads=4, gemm=args.gemm)).eval()
    seq = np.random.default_rng(0).integers(0, 256, n)
    rounds = {"batched (holozero evaluate, 64 windows a forward)": 64, "window by window (training-shaped)": 1}
    seconds, bpb = {name: [] for name in rounds}, {}
    for _ in range(1 if args.quick else 3):  # interleaved repeats
        for name, batch in rounds.items():
            t0 = time.perf_counter()
            result = evaluate_sequences(net, [seq], "text", context=128, stride=64, batch_size=batch)
            seconds[name].append(time.perf_counter() - t0)
            bpb[name] = result["bpb"]
            assert result["bytes_scored"] == n
    assert abs(bpb[list(rounds)[0]] - bpb[list(rounds)[1]]) < 1e-4, bpb
    print(f"machine: {describe()}")
    print(
        f"{n:,} bytes, context 128, stride 64, zero door K=8, dim 256 × 4 layers, gemm {args.gemm}; "
        "median of the repeats"
    )
    print("| what | median s | bytes/s | ratio |")
    print("|---|---|---|---|")
    peer = np.median(seconds["window by window (training-shaped)"])
    for name, times in seconds.items():
        t = float(np.median(times))
        print(f"| {name} | {t:.2f} | {n / t:,.0f} | {peer / t:.2f}× |")


if __name__ == "__main__":
    main()
