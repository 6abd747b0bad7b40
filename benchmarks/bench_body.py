"""The decoder body (forward + backward) against PyTorch's nn.TransformerEncoder, in the same run.

    python benchmarks/bench_body.py                # quickstart and published shapes, eager and compiled
    python benchmarks/bench_body.py --no-compile   # eager only
    python benchmarks/bench_body.py --wait-quiet 20 --runs 25
    python benchmarks/bench_body.py --threads 1 --clock cpu   # robust to other jobs on the machine
    python benchmarks/bench_body.py --quick        # smoke run

The peer is built to match: pre-norm (``norm_first=True``), same width, depth, heads and
sequence, causal (``generate_square_subsequent_mask`` + ``is_causal=True``), ``batch_first``,
no dropout, no Linear biases (``bias=False``, like ours), a final LayerNorm and the same
258-way head on the same scored positions. Ours has a SwiGLU MLP of hidden 4·dim (three
dim×4·dim matrices = 12·dim² per layer); the peer's GELU FFN of width 6·dim (two matrices)
has the same 12·dim², so only the LayerNorm biases differ (2·dim per layer, ~0.05%). Ours
also computes rotary positions; the peer has no positional encoding at all.

Both sides see the same input [B, T, dim] (prefix slots ++ stream) and the same
cross-entropy loss; one run is forward + loss + backward (no optimizer step). Rows: ours
eager, ours eager with its Linear layers on oneDNN (``gemm: onednn``, models/gemm.py: the
same weights; the peer stays on aten::mm), ours under ``torch.compile`` on each library
(unless ``--no-compile``; the first call, which compiles forward and backward, is timed
separately for the aten body),
against the eager peer, all interleaved run by run so drift on a shared machine hits every
row alike. Targets (issue #18): eager ≥ 1.05×,
compiled ≥ 1.15× the eager peer's tokens/s, as ratios of medians. Where the eager target is
missed, profiles of both (top ops by self CPU time) go to stderr.

On a shared machine, ``--threads 1 --clock cpu`` times each run by the process's CPU time on
one thread: other jobs then cost wall time but not CPU time, and there is no barrier for a
descheduled OpenMP thread to hold up (which slows ours, with more small ops, more than the peer).
"""

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import OthersMeter, describe, wait_for_quiet  # noqa: E402

from holozero.specials import NUM_CLASSES  # noqa: E402
from models.decoder import Decoder  # noqa: E402
from models.gemm import onednn_available  # noqa: E402

# (name, batch, prefix slots N, stream bytes M, dim, layers, heads)
SHAPES = [
    ("quickstart", 16, 16, 64, 256, 4, 4),
    ("published", 8, 64, 256, 512, 6, 8),
]
TARGETS = {"ours": 1.05, "ours, gemm: onednn": 1.05, "ours, compiled": 1.15, "ours, gemm: onednn, compiled": 1.15}


class Peer(nn.Module):
    """nn.TransformerEncoder + final norm + head, scoring the same positions as Decoder."""

    def __init__(self, dim: int, n_layers: int, n_heads: int, ffn: int):
        super().__init__()
        layer = nn.TransformerEncoderLayer(
            dim, n_heads, ffn, dropout=0.0, activation="gelu", batch_first=True, norm_first=True, bias=False
        )
        self.encoder = nn.TransformerEncoder(layer, n_layers, norm=nn.LayerNorm(dim), enable_nested_tensor=False)
        self.head = nn.Linear(dim, NUM_CLASSES, bias=False)

    def forward(self, prefix: torch.Tensor, stream: torch.Tensor) -> torch.Tensor:
        x = torch.cat([prefix, stream], dim=1)
        T, N = x.shape[1], prefix.shape[1]
        mask = nn.Transformer.generate_square_subsequent_mask(T, device=x.device, dtype=x.dtype)
        h = self.encoder(x, mask=mask, is_causal=True)
        return self.head(h[:, N - 1 : T - 1])


def params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


CLOCK = time.perf_counter  # or time.process_time (--clock cpu)


def timed(model: nn.Module, prefix, stream, targets) -> float:
    t0 = CLOCK()
    logits = model(prefix, stream)
    F.cross_entropy(logits.reshape(-1, NUM_CLASSES), targets.reshape(-1)).backward()
    elapsed = CLOCK() - t0
    for p in model.parameters():
        p.grad = None
    return elapsed


def profile_table(model: nn.Module, prefix, stream, targets, n: int) -> str:
    from torch.profiler import ProfilerActivity, profile

    warnings.filterwarnings("ignore", message=".*Profiler clears events")
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(n):
            timed(model, prefix, stream, targets)
    return prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=14, max_name_column_width=50)


def bench(shape, runs: int, compile: bool) -> dict:
    name, B, N, M, dim, n_layers, n_heads = shape
    torch.manual_seed(0)
    ours = Decoder(dim, n_layers, n_heads).train()
    peer = Peer(dim, n_layers, n_heads, ffn=6 * dim).train()
    prefix, stream = torch.randn(B, N, dim), torch.randn(B, M, dim)
    targets = torch.randint(0, NUM_CLASSES, (B, M))
    assert ours(prefix, stream).shape == peer(prefix, stream).shape == (B, M, NUM_CLASSES)
    models = {"nn.TransformerEncoder": peer, "ours": ours}
    if onednn_available():  # the same body and weights, its Linear layers on oneDNN (models/gemm.py)
        models["ours, gemm: onednn"] = Decoder(dim, n_layers, n_heads, gemm="onednn").train()
        models["ours, gemm: onednn"].load_state_dict(ours.state_dict())
    compile_s = None
    if compile:
        torch._dynamo.reset()
        models["ours, compiled"] = torch.compile(ours)
        compile_s = timed(models["ours, compiled"], prefix, stream, targets)  # compiles forward and backward
        if "ours, gemm: onednn" in models:
            models["ours, gemm: onednn, compiled"] = torch.compile(models["ours, gemm: onednn"])
            timed(models["ours, gemm: onednn, compiled"], prefix, stream, targets)
    for model in list(models.values()) * 2:  # warm-up
        timed(model, prefix, stream, targets)
    times = {k: [] for k in models}
    for _ in range(runs):  # interleaved, so drift on a shared machine hits every row alike
        for label, model in models.items():
            times[label].append(timed(model, prefix, stream, targets))
    medians = {k: statistics.median(v) for k, v in times.items()}
    if medians["ours"] * TARGETS["ours"] > medians["nn.TransformerEncoder"]:  # missed: show where the time goes
        for label in ("ours", "nn.TransformerEncoder"):
            profile = profile_table(models[label], prefix, stream, targets, 3)
            print(f"{name}: {label}, 3 runs, top ops by self CPU time\n{profile}", file=sys.stderr)
    return {
        "name": name,
        "shape": f"B={B}, T={N}+{M}={N + M}, dim {dim}, {n_layers} layers, {n_heads} heads",
        "tokens": B * (N + M),
        "medians": medians,
        "params": (params(ours), params(peer)),
        "compile_s": compile_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="few runs at a tiny shape (smoke test)")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile row")
    parser.add_argument("--shape", choices=[s[0] for s in SHAPES], help="one shape only")
    parser.add_argument(
        "--wait-quiet", type=float, default=0, metavar="S", help="first wait for S s with no other busy process"
    )
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's, one per core)")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall", help="cpu: process CPU time per run")
    args = parser.parse_args()

    global CLOCK
    if args.threads:
        torch.set_num_threads(args.threads)
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    if args.quick:
        shapes, runs = [("tiny", 2, 4, 16, 64, 2, 2)], 3
    else:
        shapes, runs = [s for s in SHAPES if args.shape in (None, s[0])], max(args.runs, 10)
    compile = not args.no_compile and not args.quick and args.clock == "wall"  # compiled kernels' threads skew CPU time
    quiet = wait_for_quiet(args.wait_quiet)
    load, others = os.getloadavg()[0], OthersMeter()
    results = [bench(s, runs, compile) for s in shapes]
    print(f"machine: {describe()}; load average {load:.2f} → {os.getloadavg()[0]:.2f}")
    print(f"{quiet}; other processes used {others.read():.2f} cores on average while it ran")
    print(f"forward + backward, median of {runs} interleaved runs per shape, {args.clock} clock")
    print("| shape | params ours / peer | what | ms | tokens/s | vs nn.TransformerEncoder | target | met |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        peer_ms = r["medians"]["nn.TransformerEncoder"]
        for label, median in r["medians"].items():
            ratio, target = peer_ms / median, TARGETS.get(label)
            met = "" if target is None else ("yes" if ratio >= target else "NO")
            print(
                f"| {r['name']}: {r['shape']} | {r['params'][0]:,} / {r['params'][1]:,} | {label} | "
                f"{median * 1e3:.1f} | {r['tokens'] / median:,.0f} | {ratio:.3f}× | "
                f"{'' if target is None else f'≥ {target}×'} | {met} |"
            )
    for r in results:
        if r["compile_s"] is not None:
            print(f"{r['name']}: first compiled call (compiles forward + backward) {r['compile_s']:.1f} s")


if __name__ == "__main__":
    main()
