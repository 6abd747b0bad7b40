"""Generation bytes/s with and without the KV cache, measured in the same run.

    python benchmarks/bench_generate.py            # 1,024 bytes, quickstart-sized model
    python benchmarks/bench_generate.py --quick

The model is the quickstart shape (zero door, K=8, dim 256 × 4 layers, window 128 + 64
bytes) at random init; generation is greedy with EOS ignored, so both runs produce exactly
the same 1,024 bytes (checked).
"""

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe  # noqa: E402

from holozero.commands.generate import Generator  # noqa: E402
from holozero.doors import DOORS  # noqa: E402
from models import ByteModel, Decoder  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n = 64 if args.quick else 1024
    torch.manual_seed(0)
    net = ByteModel(DOORS["zero"](K=8, dim=256), Decoder(dim=256, n_layers=4, n_heads=4)).eval()
    gen = Generator(net, context_bytes=128, stream_bytes=64)
    prompt = "The first bytes of a prompt, in English and 한국어. ".encode()
    rates, outputs = {}, {}
    for cached in (True, False, True, False):  # interleaved twice; the best of each is kept
        t0 = time.perf_counter()
        out = gen.generate(prompt, max_bytes=n, temperature=0, stop_at_eos=False, use_cache=cached)
        rate = len(out) / (time.perf_counter() - t0)
        rates[cached] = max(rates.get(cached, 0.0), rate)
        outputs[cached] = out
    assert outputs[True] == outputs[False] and len(outputs[True]) == n
    print(f"machine: {describe()}")
    print(f"{n} bytes generated, greedy, quickstart-sized model")
    print("| generation | bytes/s | ratio |")
    print("|---|---|---|")
    print(f"| full recompute per byte | {rates[False]:.1f} | 1.0× |")
    print(f"| KV cache on the stream path | {rates[True]:.1f} | {rates[True] / rates[False]:.1f}× |")


if __name__ == "__main__":
    main()
