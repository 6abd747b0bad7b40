"""The decoder body (forward + backward) against PyTorch's nn.TransformerEncoder, in the same run.

    python benchmarks/bench_body.py            # quickstart and published shapes, 15 interleaved runs each
    python benchmarks/bench_body.py --quick    # smoke run

The peer is built to match: pre-norm (``norm_first=True``), same width, depth, heads and
sequence, causal (``generate_square_subsequent_mask`` + ``is_causal=True``), ``batch_first``,
no dropout, no Linear biases (``bias=False``, like ours), a final LayerNorm and the same
258-way head on the same scored positions. Ours has a SwiGLU MLP of hidden 4·dim (three
dim×4·dim matrices = 12·dim² per layer); the peer's GELU FFN of width 6·dim (two matrices)
has the same 12·dim², so only the LayerNorm biases differ (2·dim per layer, ~0.05%). Ours
also computes rotary positions; the peer has no positional encoding at all.

Both sides see the same input [B, T, dim] (prefix slots ++ stream) and the same
cross-entropy loss; one run is forward + loss + backward (no optimizer step).
Target (issue #8): ours ≥ 1.0× the peer's tokens/s, as the ratio of medians. Where it is
missed, profiles of both (top ops by self CPU time) go to stderr.
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
from machine import describe  # noqa: E402

from holozero.specials import NUM_CLASSES  # noqa: E402
from models.decoder import Decoder  # noqa: E402

# (name, batch, prefix slots N, stream bytes M, dim, layers, heads)
SHAPES = [
    ("quickstart", 16, 16, 64, 256, 4, 4),
    ("published", 8, 64, 256, 512, 6, 8),
]


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


def timed(model: nn.Module, prefix, stream, targets) -> float:
    t0 = time.perf_counter()
    logits = model(prefix, stream)
    F.cross_entropy(logits.reshape(-1, NUM_CLASSES), targets.reshape(-1)).backward()
    elapsed = time.perf_counter() - t0
    model.zero_grad(set_to_none=True)
    return elapsed


def profile_table(model: nn.Module, prefix, stream, targets, n: int) -> str:
    from torch.profiler import ProfilerActivity, profile

    warnings.filterwarnings("ignore", message=".*Profiler clears events")
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(n):
            timed(model, prefix, stream, targets)
    return prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=14, max_name_column_width=50)


def bench(shape, runs: int) -> dict:
    name, B, N, M, dim, n_layers, n_heads = shape
    torch.manual_seed(0)
    ours = Decoder(dim, n_layers, n_heads).train()
    peer = Peer(dim, n_layers, n_heads, ffn=6 * dim).train()
    prefix, stream = torch.randn(B, N, dim), torch.randn(B, M, dim)
    targets = torch.randint(0, NUM_CLASSES, (B, M))
    assert ours(prefix, stream).shape == peer(prefix, stream).shape == (B, M, NUM_CLASSES)
    for model in (ours, peer, ours, peer):  # warm-up
        timed(model, prefix, stream, targets)
    t_ours, t_peer = [], []
    for _ in range(runs):  # interleaved, so drift on a shared machine hits both alike
        t_peer.append(timed(peer, prefix, stream, targets))
        t_ours.append(timed(ours, prefix, stream, targets))
    tokens = B * (N + M)
    if statistics.median(t_ours) > statistics.median(t_peer):  # target missed: show where the time goes
        n = 3
        for label, model in (("ours (Decoder)", ours), ("peer (nn.TransformerEncoder)", peer)):
            profile = profile_table(model, prefix, stream, targets, n)
            print(f"{name}: {label}, {n} runs, top ops by self CPU time\n{profile}", file=sys.stderr)
    return {
        "name": name,
        "shape": f"B={B}, T={N}+{M}={N + M}, dim {dim}, {n_layers} layers, {n_heads} heads",
        "ours": tokens / statistics.median(t_ours),
        "peer": tokens / statistics.median(t_peer),
        "p_ours": params(ours),
        "p_peer": params(peer),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="few runs at a tiny shape (smoke test)")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    shapes = [("tiny", 2, 4, 16, 64, 2, 2)] if args.quick else SHAPES
    runs = 3 if args.quick else max(args.runs, 10)
    load = os.getloadavg()[0]
    results = [bench(s, runs) for s in shapes]
    print(f"machine: {describe()}; load average {load:.2f} → {os.getloadavg()[0]:.2f}")
    print(f"forward + backward, median of {runs} interleaved runs per shape")
    print("| shape | params ours / peer | ours tokens/s | nn.TransformerEncoder tokens/s | ratio | target | met |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        ratio = r["ours"] / r["peer"]
        print(
            f"| {r['name']}: {r['shape']} | {r['p_ours']:,} / {r['p_peer']:,} | {r['ours']:,.0f} | "
            f"{r['peer']:,.0f} | {ratio:.2f}× | ≥ 1.0× | {'yes' if ratio >= 1.0 else 'NO'} |"
        )


if __name__ == "__main__":
    main()
