"""Write one file of a source whose entropy rate is known exactly (an order-2 Markov chain over
8 byte values), and print that rate: the single-file corpus of docs/results/evaluation_quickstart.md.

    python scripts/markov_file.py markov.bin --bytes 400000 --seed 2
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from datamodules.controls import markov2_chain


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("--bytes", type=int, default=400_000)
    p.add_argument("--seed", type=int, default=2)
    args = p.parse_args()
    chain = markov2_chain(alphabet=8, seed=args.seed)
    data = chain.sample(args.bytes, np.random.default_rng(args.seed)).astype(np.uint8)
    Path(args.out).write_bytes(data.tobytes())
    print(f"{args.out}: {args.bytes:,} bytes, exact entropy rate {chain.entropy_rate:.6f} bits/byte")


if __name__ == "__main__":
    main()
