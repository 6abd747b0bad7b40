"""Which float32 GEMM library the body's Linear layers run on CPU (issue #18).

``aten`` (the default) is ``F.linear``: on the x86 wheels that is MKL's sgemm, which picks its
code path by CPU vendor. ``onednn`` runs the same products on oneDNN (the library inside the
same torch build that Inductor's CPU fusions call), which picks its path by instruction set:
on the AMD EPYC the benchmarks ran on, its fp32 GEMM is ~2.2× MKL's (docs/benchmarks.md).

The choice is a kernel, not a model: the parameters, their names and the checkpoints are the
same, and the two agree to float32 rounding (tests/models/test_gemm.py). Because rounding
differs, a run on ``onednn`` does not reproduce an ``aten`` run bit for bit — which is why the
default stays ``aten`` and the committed results name the library they ran on. Off CPU, for
other dtypes, with a bias or under CPU autocast (bf16-mixed: the product must be autocast's
bf16 one, not a float32 one that ignores it) the layer falls back to ``F.linear``; under
``torch.compile`` the oneDNN product stays one opaque op between the fused kernels.
"""

from __future__ import annotations

import functools

import torch
import torch.nn as nn
import torch.nn.functional as F

GEMMS = ("aten", "onednn")


@functools.cache
def onednn_available() -> bool:
    """True when this torch build has oneDNN and its fp32 linear op."""
    return torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")


def check_gemm(gemm: str) -> str:
    if gemm not in GEMMS:
        raise ValueError(f"gemm={gemm!r}: expected one of {', '.join(GEMMS)}")
    if gemm == "onednn" and not onednn_available():
        raise ValueError("gemm='onednn': this torch build has no oneDNN (torch.backends.mkldnn); use gemm: aten")
    return gemm


@torch.library.custom_op("holozero::onednn_mm", mutates_args=())
def onednn_mm(a: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """a [R, K] @ w[N, K].T on oneDNN's fp32 inner product. A registered op (not a bare call)
    so that torch.compile keeps it as one opaque kernel: Inductor's own lowering of the oneDNN
    linear op expects inference-time prepacked weights and fails in training."""
    return torch.ops.mkldnn._linear_pointwise(a.contiguous(), w.contiguous(), None, "none", [], "")


@onednn_mm.register_fake
def _(a: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    return a.new_empty(a.shape[0], w.shape[0])


class OneDnnLinearFn(torch.autograd.Function):
    """x @ w.T with the forward, the input gradient and the weight gradient all on oneDNN."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        x2 = x.reshape(-1, x.shape[-1])
        ctx.save_for_backward(x2, w)
        ctx.in_shape = x.shape
        return onednn_mm(x2, w).view(*x.shape[:-1], w.shape[0])

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x2, w = ctx.saved_tensors
        g2 = grad.reshape(-1, grad.shape[-1])
        grad_x = onednn_mm(g2, w.t()).view(ctx.in_shape) if ctx.needs_input_grad[0] else None
        grad_w = onednn_mm(g2.t(), x2.t()) if ctx.needs_input_grad[1] else None
        return grad_x, grad_w


class Linear(nn.Linear):
    """nn.Linear (same parameters, same state dict) whose float32 CPU product may run on oneDNN."""

    def __init__(self, in_features: int, out_features: int, bias: bool = False, gemm: str = "aten"):
        super().__init__(in_features, out_features, bias=bias)
        self.gemm = check_gemm(gemm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if (
            self.gemm == "onednn"
            and self.bias is None
            and x.device.type == "cpu"
            and x.dtype == torch.float32
            and self.weight.dtype == torch.float32
            and not torch.is_autocast_enabled("cpu")  # bf16-mixed: autocast's own (bf16) F.linear
        ):
            return OneDnnLinearFn.apply(x, self.weight)
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", gemm={self.gemm}"
