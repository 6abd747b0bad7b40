"""Does ``model.compile: true`` pay for itself in a run of a shipped config? Compile cost,
per-step gain and the break-even step count, eager and compiled side by side in one run.

    python benchmarks/bench_compile.py --config configs/quickstart.yaml
    python benchmarks/bench_compile.py --config configs/zero_k8.yaml --steps 16 --val-batches 2
    python benchmarks/bench_compile.py --quick      # smoke run (one layer, few steps)

The model and data module are built from the config exactly as ``holozero fit`` builds them
(HoloCLI, run=False), and the training batches are the run's own, in the run's order: a
mixture config alternates window layouts, and every new layout (and validation, in eval
mode) is a compile the run pays for. Two copies of the model with the same weights (one
eager, one wrapped by ``torch.compile`` as ``ByteLM.configure_model`` does) each take a
real training step (forward, loss, backward, gradient clipping at 1.0, fused AdamW) on
every batch, alternating batch by batch so drift on a shared machine hits both alike; then
both score validation batches (eval mode, no grad) twice.

  steady time of a layout = median of the later half of its steps (compiles come first);
  compile cost            = Σ (compiled step − its layout's steady time), minus the same
                            warm-up excess of the eager copy (train and validation);
  gain                    = eager steady − compiled steady, summed over the run's layouts
                            (all ``max_steps`` drawn from the loader) and validation passes;
  break-even              = compile cost / mean gain per training step (validation included).
"""

import argparse
import copy
import itertools
import os
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import OthersMeter, describe, wait_for_quiet  # noqa: E402

from holozero.losses import mean_loss  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def build(config: str, overrides: list[str]):
    from datamodules.base import WindowDataModule
    from holozero.commands.cli import HoloCLI
    from models import ByteLM

    cli = HoloCLI(
        ByteLM,
        WindowDataModule,
        subclass_mode_data=True,
        args=["--config", config, "--trainer.logger", "false"] + overrides,
        run=False,
    )
    return cli.model, cli.datamodule, cli.trainer


def layout(batch: dict) -> tuple[int, int]:
    return batch["ids"].shape[1], batch["segment"].shape[1]


class Arm:
    """One copy of the network (eager or compiled) with its own AdamW."""

    def __init__(self, lm, compiled: bool):
        self.net = copy.deepcopy(lm.net).train()
        self.run = torch.compile(self.net) if compiled else self.net
        decay = [p for n, p in self.net.named_parameters() if p.ndim >= 2]
        rest = [p for n, p in self.net.named_parameters() if p.ndim < 2]
        groups = [{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}]
        self.opt = torch.optim.AdamW(groups, lr=1e-4, betas=(0.9, 0.95), fused=True)
        self.train_s, self.val_s = [], []

    def step(self, batch: dict) -> None:
        t0 = time.perf_counter()
        ids, S = batch["ids"], batch["segment"].shape[1]
        targets = self.net.training_targets(ids, batch["segment"]) if hasattr(self.net, "training_targets") else None
        targets = ids[:, ids.shape[1] - S :] if targets is None else targets
        nats = self.run(ids, S, targets)[1]
        mean_loss(nats, targets).backward()
        torch.nn.utils.clip_grad_norm_(self.net.parameters(), 1.0)
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)
        self.train_s.append(time.perf_counter() - t0)

    @torch.no_grad()
    def score(self, batch: dict) -> None:
        self.net.eval()
        t0 = time.perf_counter()
        self.run(batch["ids"], batch["segment"].shape[1], batch["ids"][:, -batch["segment"].shape[1] :])
        self.val_s.append(time.perf_counter() - t0)
        self.net.train()


def steady(times: list[float], keys: list) -> tuple[dict, float]:
    """(steady time per key, Σ excess of every call over its key's steady time)."""
    by_key = defaultdict(list)
    for t, k in zip(times, keys, strict=True):
        by_key[k].append(t)
    med = {k: statistics.median(v[len(v) // 2 :]) for k, v in by_key.items()}  # the later half: compiles are early
    return med, sum(t - med[k] for t, k in zip(times, keys, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=str(ROOT / "configs" / "quickstart.yaml"))
    parser.add_argument("--steps", type=int, default=48, help="training batches timed per arm")
    parser.add_argument("--val-batches", type=int, default=4, help="validation batches timed per loader and pass")
    parser.add_argument("--quick", action="store_true", help="tiny body, few steps (smoke test)")
    parser.add_argument("--wait-quiet", type=float, default=0, metavar="S")
    parser.add_argument(
        "overrides", nargs="*", help="extra holozero fit flags after --, e.g. -- --trainer.max_steps=100"
    )
    args = parser.parse_args()

    overrides = list(args.overrides)
    if args.quick:
        overrides += ["--model.body.init_args.n_layers=1", "--model.body.init_args.n_heads=2"]
        args.steps, args.val_batches = 6, 1
    lm, dm, trainer = build(args.config, overrides)
    t0 = time.perf_counter()
    dm.setup("fit")
    setup_s = time.perf_counter() - t0
    max_steps = trainer.max_steps
    val_every = trainer.val_check_interval
    val_passes = (max_steps // val_every if isinstance(val_every, int) and val_every > 0 else 1) + 1  # + sanity
    # the run's layouts, in order: the loader is ~1000× faster than the model, so draw them all
    loader = iter(dm.train_dataloader())
    batches, run_layouts = [], []
    for i in range(max_steps):
        batch = next(loader)
        run_layouts.append(layout(batch))
        if i < args.steps:
            batches.append(batch)
    val = [list(itertools.islice(vl, args.val_batches)) for vl in dm.val_dataloader()]
    val_counts = [sum(1 for _ in vl) for vl in dm.val_dataloader()]  # batches per loader in one full pass

    quiet = wait_for_quiet(args.wait_quiet)
    load, others = os.getloadavg()[0], OthersMeter()
    torch._dynamo.reset()
    eager, compiled = Arm(lm, False), Arm(lm, True)
    keys = [layout(b) for b in batches]
    for batch in batches:  # alternate, so drift hits both arms alike
        eager.step(batch)
        compiled.step(batch)
    val_keys = []
    for _ in range(3):  # eval-mode graphs: the first pass compiles, the later ones are steady
        for j, loader_batches in enumerate(val):
            for batch in loader_batches:
                eager.score(batch)
                compiled.score(batch)
                val_keys.append((j,) + layout(batch))
    med_e, excess_e = steady(eager.train_s, keys)
    med_c, excess_c = steady(compiled.train_s, keys)
    vmed_e, vexcess_e = steady(eager.val_s, val_keys)
    vmed_c, vexcess_c = steady(compiled.val_s, val_keys)
    compile_train, compile_val = excess_c - excess_e, vexcess_c - vexcess_e
    # one validation pass of the run: every loader's full batch count at its steady time
    val_pass_e = sum(n * vmed_e[(j,) + layout(val[j][0])] for j, n in enumerate(val_counts) if val[j])
    val_pass_c = sum(n * vmed_c[(j,) + layout(val[j][0])] for j, n in enumerate(val_counts) if val[j])
    counts = Counter(run_layouts)
    run_e = sum(n * med_e[k] for k, n in counts.items() if k in med_e) + val_passes * val_pass_e
    run_c = sum(n * med_c[k] for k, n in counts.items() if k in med_c) + val_passes * val_pass_c
    covered = sum(n for k, n in counts.items() if k in med_e)
    gain_per_step = (run_e - run_c) / max(covered, 1)
    cost = compile_train + compile_val
    print(f"machine: {describe()}; load average {load:.2f} → {os.getloadavg()[0]:.2f}")
    print(f"{quiet}; other processes used {others.read():.2f} cores on average while it ran")
    body = lm.net.body
    print(
        f"config {args.config} {' '.join(overrides)}: dim {body.dim} × {body.n_layers} layers, batch "
        f"{batches[0]['ids'].shape[0]}, {max_steps} steps, {val_passes} validation passes (incl. sanity); data "
        f"setup {setup_s:.1f} s; {args.steps} training steps and {args.val_batches} validation batches per loader "
        f"timed per arm"
    )
    print("| window layout (ids, stream) | steps in run | eager ms | compiled ms | speed-up |")
    print("|---|---|---|---|---|")
    for k, n in counts.most_common():
        if k in med_e:
            e, c = med_e[k] * 1e3, med_c[k] * 1e3
            print(f"| {k[0]}, {k[1]} | {n} | {e:.1f} | {c:.1f} | {e / c:.2f}× |")
    print(
        f"| validation pass ({sum(val_counts)} batches) | {val_passes} | {val_pass_e * 1e3:.0f} | "
        f"{val_pass_c * 1e3:.0f} | {val_pass_e / val_pass_c:.2f}× |"
    )
    print(f"compile cost: {compile_train:.1f} s (training layouts) + {compile_val:.1f} s (validation, eval mode)")
    print(
        f"whole run, model time only: eager {run_e:.0f} s, compiled {run_c:.0f} s + {cost:.0f} s compiling "
        f"= {run_c + cost:.0f} s ({covered}/{max_steps} steps in timed layouts)"
    )
    if gain_per_step > 0:
        verdict = "pays for itself" if cost < gain_per_step * max_steps else "does NOT pay for itself"
        print(
            f"gain {gain_per_step * 1e3:.1f} ms per training step (validation included) → break-even after "
            f"{cost / gain_per_step:.0f} steps; this run has {max_steps}: compile {verdict}"
        )
    else:
        print(f"no gain per step ({gain_per_step * 1e3:.1f} ms): compile never pays for itself here")


if __name__ == "__main__":
    main()
