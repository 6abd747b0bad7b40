"""Run the 2-process DDP ``holozero validate`` of a tiny checkpoint N times and count the runs
that did not exit cleanly (issue #26, item 8: a rare exit −6, "terminate called without an
active exception", after the figures were written).

    python scripts/ddp_exit_loop.py --runs 20            # prints one line per run and the count
    python scripts/ddp_exit_loop.py --runs 20 --command test
    python scripts/ddp_exit_loop.py --runs 20 --bare     # the cause, without holozero or Lightning
    python scripts/ddp_exit_loop.py --runs 20 --bare --destroy

It trains one tiny text run (4 steps, a Markov-chain corpus) in a temporary folder, then runs
the same command line as tests/commands/test_runs.py's DDP test. ``--bare`` runs two plain
torch processes instead that join a gloo group, all-reduce and exit, with the group still alive
(or destroyed first, ``--destroy``). Exits 1 if any run aborted.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def tiny_args(corpus: Path, root: Path) -> list[str]:
    """The fit/validate arguments of tests/helpers.tiny_fit_args(steps=4), written out."""
    return [
        "--seed_everything", "0", "--trainer.default_root_dir", str(root), "--trainer.max_steps", "4",
        "--trainer.val_check_interval", "4", "--trainer.check_val_every_n_epoch", "null",
        "--trainer.log_every_n_steps", "1", "--trainer.enable_progress_bar", "false",
        "--trainer.enable_model_summary", "false", "--model.door", "holozero.doors.ZeroDoor",
        "--model.body", "models.Decoder", "--model.body.init_args.dim", "64",
        "--model.body.init_args.n_layers", "1", "--model.body.init_args.n_heads", "2",
        "--data", "datamodules.TextDataModule", "--data.init_args.text.paths", str([str(corpus)]),
        "--data.init_args.K", "2", "--data.init_args.text.context_bytes", "16",
        "--data.init_args.text.stream_bytes", "16", "--data.init_args.batch_size", "4",
        "--data.init_args.val_bytes", "256", "--data.init_args.cache_dir", str(root.parent / "cache"),
    ]  # fmt: skip


def bare_rank(rank: int, port: int, destroy: bool) -> None:
    """One rank of the bare case: a gloo group of 2, three all-reduces, a barrier, exit."""
    import os

    import torch
    import torch.distributed as dist

    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(port)
    dist.init_process_group("gloo", rank=rank, world_size=2)
    t = torch.ones(1000)
    for _ in range(3):
        dist.all_reduce(t)
    dist.barrier()
    if destroy:
        dist.destroy_process_group()


def bare_loop(runs: int, destroy: bool) -> int:
    import socket

    aborted = 0
    for i in range(1, runs + 1):
        with socket.socket() as s:  # a free port for this run's rendezvous
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        rank = [sys.executable, __file__, "--port", str(port), *(["--destroy"] if destroy else []), "--rank"]
        procs = [subprocess.Popen([*rank, str(r)], stderr=subprocess.PIPE, text=True) for r in (0, 1)]
        codes = [p.wait(timeout=300) for p in procs]
        errors = [p.stderr.read() for p in procs]
        bad = any(codes) or any("terminate called" in e for e in errors)
        aborted += bad
        print(f"run {i:>3}: exit {codes[0]:>4} {codes[1]:>4}", flush=True)
        if bad:
            print("  " + "\n  ".join(line for e in errors for line in e.strip().splitlines()[-2:]), flush=True)
    state = "destroyed" if destroy else "alive"
    print(f"{aborted} of {runs} bare 2-process gloo runs (group {state} at exit) did not exit cleanly")
    return aborted


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--command", default="validate", choices=("validate", "test"))
    p.add_argument("--bare", action="store_true", help="plain torch processes, no holozero or Lightning")
    p.add_argument("--destroy", action="store_true", help="--bare: destroy the group before exit")
    p.add_argument("--rank", type=int, help=argparse.SUPPRESS)  # one rank of --bare
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.rank is not None:
        return bare_rank(args.rank, args.port, args.destroy)
    if args.bare:
        raise SystemExit(1 if bare_loop(args.runs, args.destroy) else 0)
    from datamodules.controls import markov2_chain

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        corpus = tmp / "corpus"
        corpus.mkdir()
        chain = markov2_chain(alphabet=16, alpha=0.5, seed=3)
        for i in range(6):
            doc = chain.sample(4000, np.random.default_rng(i)).astype(np.uint8)
            (corpus / f"doc{i:03d}.bin").write_bytes(doc.tobytes())
        fit_args = tiny_args(corpus, tmp / "runs")
        holozero = [sys.executable, "-m", "holozero"]
        subprocess.run([*holozero, "fit", *fit_args], cwd=tmp, check=True, capture_output=True)
        ckpt = tmp / "runs" / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"
        ddp = ["--trainer.strategy", "ddp", "--trainer.devices", "2", "--trainer.accelerator", "cpu"]
        command = [*holozero, args.command, *fit_args, "--ckpt_path", str(ckpt), *ddp]
        aborted = 0
        for i in range(1, args.runs + 1):
            t0 = time.perf_counter()
            done = subprocess.run(command, cwd=tmp, capture_output=True, text=True, timeout=600)
            bad = done.returncode != 0 or "terminate called" in done.stderr
            aborted += bad
            print(f"run {i:>3}: exit {done.returncode:>3}, {time.perf_counter() - t0:5.1f} s", flush=True)
            if bad:
                print("  " + "\n  ".join(done.stderr.strip().splitlines()[-6:]), flush=True)
        print(f"{aborted} of {args.runs} DDP `holozero {args.command}` runs did not exit cleanly")
    raise SystemExit(1 if aborted else 0)


if __name__ == "__main__":
    main()
