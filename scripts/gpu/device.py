"""The device the campaign runs on: what it is, whether it does bf16, and its dense matmul peak
measured in the same run (the MFU denominator; bench_step.py's method, at GPU size)."""

from __future__ import annotations

import time

import torch


def matmul_peak(device: torch.device, dtype: torch.dtype, n: int, runs: int = 10) -> float:
    """Best FLOP/s of ``runs`` products of two n×n matrices (2·n³ FLOPs each)."""
    a, b = (torch.randn(n, n, device=device, dtype=dtype) for _ in range(2))
    best = float("inf")
    for _ in range(runs + 2):  # the first two warm up (kernel choice, clocks)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        t0 = time.perf_counter()
        torch.mm(a, b)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best


def check(want: str, precision: str) -> dict:
    """Facts of the device; raises when the campaign asks for CUDA and there is none."""
    from lightning.fabric.utilities.throughput import get_available_flops

    facts = {
        "torch": torch.__version__,
        "cuda_available": torch.cuda.is_available(),
        "precision": precision,
    }
    if want == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError("the campaign needs CUDA and torch sees none (use --dry-run on a CPU machine)")
        device = torch.device("cuda", 0)
        props = torch.cuda.get_device_properties(device)
        facts |= {
            "device": torch.cuda.get_device_name(device),
            "memory_gib": props.total_memory / 2**30,
            "capability": f"{props.major}.{props.minor}",
            "bf16_supported": torch.cuda.is_bf16_supported(),
            "cuda": torch.version.cuda,
        }
        if precision.startswith("bf16") and not facts["bf16_supported"]:
            raise RuntimeError(f"{facts['device']} does not support bf16; pass --precision 32-true")
        dtype, n = (torch.bfloat16, 8192) if precision.startswith("bf16") else (torch.float32, 8192)
    else:
        device = torch.device("cpu")
        facts |= {"device": "cpu", "bf16_supported": None}
        dtype, n = (torch.bfloat16 if precision.startswith("bf16") else torch.float32), 1024
    facts["peak_dtype"] = str(dtype).removeprefix("torch.")
    facts["peak_matmul_flops"] = matmul_peak(device, dtype, n)
    facts["peak_matmul_n"] = n
    facts["datasheet_flops"] = get_available_flops(device, dtype)  # Lightning's table (None on CPU)
    return facts
