"""hsl_features against the reference hsl_embedding.Embedding(), measured in the same run.

    python benchmarks/bench_features.py            # [64, 4096] ids, 30 interleaved runs
    python benchmarks/bench_features.py --quick    # smoke run

Target (issue #2): ours ≥ 3× faster, as the ratio of medians over ≥ 20 interleaved runs.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe  # noqa: E402

from holozero.features import hsl_features  # noqa: E402


def timed(fn, ids) -> float:
    t0 = time.perf_counter()
    fn(ids)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="few, small runs (smoke test)")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    import hsl_embedding  # the reference is measured, never used by the runtime

    shape, runs = ((8, 512), 5) if args.quick else ((64, 4096), max(args.runs, 20))
    ids = torch.randint(0, 256, shape, generator=torch.Generator().manual_seed(0))
    ref = hsl_embedding.Embedding()
    assert torch.equal(hsl_features(ids), ref(ids)), "outputs differ: the comparison would be meaningless"
    for fn in (ref, hsl_features):  # warm up allocator and caches
        fn(ids)
    ours, theirs = [], []
    for _ in range(runs):  # interleaved, so drift on a shared machine hits both alike
        theirs.append(timed(ref, ids))
        ours.append(timed(hsl_features, ids))
    m_ours, m_ref = statistics.median(ours), statistics.median(theirs)
    ratio = m_ref / m_ours
    print(f"machine: {describe()}")
    print(f"ids {list(shape)}, median of {runs} interleaved runs")
    print("| what | median ms | ratio vs hsl_embedding | target | met |")
    print("|---|---|---|---|---|")
    print(f"| hsl_embedding.Embedding() | {m_ref * 1e3:.2f} | 1.00× | | |")
    print(f"| holozero hsl_features | {m_ours * 1e3:.2f} | {ratio:.2f}× | ≥ 3× | {'yes' if ratio >= 3 else 'NO'} |")


if __name__ == "__main__":
    main()
