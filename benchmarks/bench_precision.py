"""bf16-mixed against float32 on this host, in one run (issue #27): the body's forward +
backward and the whole training step (zero door + body + float32 loss + backward + fused
AdamW), each in float32 on aten (MKL), float32 with the Linear layers on oneDNN
(``gemm: onednn``) and bf16-mixed (``torch.autocast("cpu", bfloat16)`` as Lightning's
``bf16-mixed`` runs it, aten path; under autocast the oneDNN layer steps aside, so bf16 has one
row). Rounds are interleaved, so drift on a shared machine hits every row alike; the table
gives each row's median and its speed against the best float32 row of the same shape.

    python benchmarks/bench_precision.py                       # quickstart and published shapes
    python benchmarks/bench_precision.py --shape quickstart --runs 10
    python benchmarks/bench_precision.py --quick               # smoke run

Goal (issue #27): the bf16 step ≥ 1.4× the best float32 step on the same host.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import os
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import OthersMeter, describe, wait_for_quiet  # noqa: E402

from holozero.doors import ZeroDoor  # noqa: E402
from holozero.specials import NUM_CLASSES, PAD  # noqa: E402
from models.byte_model import ByteModel  # noqa: E402
from models.decoder import Decoder  # noqa: E402
from models.gemm import onednn_available  # noqa: E402

GOAL = 1.4
# name -> (B, C, S, K, dim, layers, heads): the quickstart's text windows and the published recipe's
SHAPES = {
    "quickstart": (16, 128, 64, 8, 256, 4, 4),
    "published": (32, 512, 256, 8, 512, 6, 8),
    "tiny": (2, 32, 16, 8, 256, 1, 4),
}


def precision_context(bf16: bool):
    return torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()


def make_fns(shape, gemm: str, bf16: bool):
    """(body forward + backward, training step) closures over their own network and AdamW."""
    B, C, S, K, dim, n_layers, n_heads = shape
    torch.manual_seed(0)
    net = ByteModel(ZeroDoor(K=K, dim=dim), Decoder(dim, n_layers, n_heads, gemm=gemm)).train()
    ids = torch.randint(0, 256, (B, C + S))
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, betas=(0.9, 0.95), weight_decay=0.1, fused=True)
    prefix, stream = (t.detach() for t in net.door.split_window(ids, C))
    body = copy.deepcopy(net.body)

    def body_fwd_bwd() -> None:
        with precision_context(bf16):
            out = body(prefix, stream)
        out.float().sum().backward()

    def step() -> None:
        with precision_context(bf16):
            logits, _ = net(ids, S)
        F.cross_entropy(logits.float().reshape(-1, NUM_CLASSES), ids[:, -S:].reshape(-1), ignore_index=PAD).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    return body_fwd_bwd, step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="few rounds at a tiny shape (smoke test)")
    parser.add_argument("--runs", type=int, default=12)
    parser.add_argument("--shape", choices=[s for s in SHAPES if s != "tiny"], help="one shape only")
    parser.add_argument("--wait-quiet", type=float, default=0, metavar="S")
    args = parser.parse_args()
    shapes = ["tiny"] if args.quick else ([args.shape] if args.shape else ["quickstart", "published"])
    runs = 2 if args.quick else args.runs

    quiet = wait_for_quiet(args.wait_quiet)
    load, others = os.getloadavg()[0], OthersMeter()
    arms = [("float32, aten", "aten", False)]
    if onednn_available():
        arms.append(("float32, gemm: onednn", "onednn", False))
    arms.append(("bf16-mixed (autocast), aten", "aten", True))
    rows = []
    for name in shapes:
        fns = {}
        for label, gemm, bf16 in arms:
            body, step = make_fns(SHAPES[name], gemm, bf16)
            fns[(label, "body forward + backward")] = body
            fns[(label, "training step")] = step
        for fn in list(fns.values()) * 2:  # warm-up: AdamW state, allocator, oneDNN primitive caches
            fn()
        times = {k: [] for k in fns}
        for _ in range(runs):
            for k, fn in fns.items():
                t0 = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - t0)
        med = {k: statistics.median(v) for k, v in times.items()}
        for what in ("body forward + backward", "training step"):
            best32 = min(med[(label, what)] for label, _, bf16 in arms if not bf16)
            for label, _, _ in arms:
                rows.append((name, what, label, med[(label, what)] * 1e3, best32 / med[(label, what)]))

    print(f"machine: {describe()}; load average {load:.2f} → {os.getloadavg()[0]:.2f}")
    print(f"{quiet}; other processes used {others.read():.2f} cores on average while it ran; {runs} rounds")
    for name in shapes:
        B, C, S, K, dim, n_layers, n_heads = SHAPES[name]
        print(f"- {name}: B={B}, window {C}+{S} bytes, K={K}, dim {dim}, {n_layers} layers, {n_heads} heads")
    print("| shape | what | precision, GEMM | median ms | × best float32 |")
    print("|---|---|---|---|---|")
    for name, what, label, ms, speed in rows:
        print(f"| {name} | {what} | {label} | {ms:.1f} | {speed:.2f}× |")
    steps = [r for r in rows if r[1] == "training step" and r[2].startswith("bf16")]
    for name, _, _, _, speed in steps:
        print(f"goal (bf16 step ≥ {GOAL}× the best float32 step), {name}: {'met' if speed >= GOAL else 'NOT met'}")


if __name__ == "__main__":
    main()
