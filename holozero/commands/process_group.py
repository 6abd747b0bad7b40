"""The end of a distributed command: its process group is destroyed while the interpreter is
still whole.

Lightning destroys only an NCCL group (at exit). A gloo group (DDP on CPU) was left to
interpreter shutdown, where its worker threads may be torn down unjoined: the process then
aborts with "terminate called without an active exception" (exit −6) after its work is done
and written — rarely in a 2-process ``holozero validate``, in up to half the exits of a bare
2-process gloo script (``scripts/ddp_exit_loop.py --bare``). Destroying the group first makes
every exit a clean one. Only a command that succeeded ends it: after an error another rank may
still be inside a collective, and the error's own exit code already says the run failed.
"""

from __future__ import annotations


def end_process_group() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
