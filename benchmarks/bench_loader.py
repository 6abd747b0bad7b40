"""Data loader throughput against what the quickstart model consumes, in the same run.

    python benchmarks/bench_loader.py            # 200 loader batches, 30 training steps
    python benchmarks/bench_loader.py --quick

Both sides see the same batches (the quickstart mixture, main process, no workers): the
loader's bytes/s is the time to produce them; the model's is the time of full training
steps (forward, backward, AdamW) on batches already in memory. Target (issue #4): ≥ 20×.
"""

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe  # noqa: E402

from datamodules.base import WindowDataModule  # noqa: E402
from holozero.commands.cli import HoloCLI  # noqa: E402
from models import ByteLM  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n_loader, n_steps = (20, 3) if args.quick else (200, 30)

    cli = HoloCLI(
        ByteLM,
        WindowDataModule,
        subclass_mode_data=True,
        run=False,
        args=["--config", str(ROOT / "configs" / "quickstart.yaml")],
    )
    dm, lm = cli.datamodule, cli.model
    dm.prepare_data()
    dm.setup("fit")
    loader = iter(dm.train_dataloader())
    next(loader)  # warm-up
    t0 = time.perf_counter()
    batches = [next(loader) for _ in range(n_loader)]
    loader_s = time.perf_counter() - t0
    loader_bytes = sum(b["ids"].numel() for b in batches)

    net = lm.net.train()
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)

    def step(batch):
        S = batch["segment"].shape[1]
        logits, _ = net(batch["ids"], S)
        targets = batch["ids"][:, -S:]
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=258
        )
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    step(batches[0])  # warm-up
    t0 = time.perf_counter()
    for b in batches[1 : n_steps + 1]:
        step(b)
    model_s = time.perf_counter() - t0
    model_bytes = sum(b["ids"].numel() for b in batches[1 : n_steps + 1])

    produced, consumed = loader_bytes / loader_s, model_bytes / model_s
    ratio = produced / consumed
    print(f"machine: {describe()}")
    print(f"quickstart mixture, batch {dm.batch_size}; loader {n_loader} batches, model {n_steps} training steps")
    print("| what | bytes/s | ratio | target | met |")
    print("|---|---|---|---|---|")
    print(f"| model consumes (training step) | {consumed:,.0f} | 1.0× | | |")
    print(f"| loader delivers | {produced:,.0f} | {ratio:.0f}× | ≥ 20× | {'yes' if ratio >= 20 else 'NO'} |")


if __name__ == "__main__":
    main()
