"""The decoder body (DESIGN.md §3): a plain nn.Module, readable top to bottom.

Input is the concatenation ``[N prefix slots] ++ [M stream bytes]`` of door outputs, all
already at model width. Attention is causal across the whole concatenation, so stream byte
j sees every prefix slot and stream bytes ≤ j. Every stream byte is scored: the last prefix
slot predicts stream byte 0, stream byte j predicts stream byte j+1. With an empty prefix
(the per-byte baseline) the first stream byte has no predictor and M-1 bytes are scored.

Pre-norm blocks, rotary positions over the concatenated sequence, SwiGLU MLP,
``F.scaled_dot_product_attention`` (flash / memory-efficient kernels where available), and
a 258-way head (256 bytes, SEP, EOS). At dim 512, 6 layers, 8 heads this is ~25M parameters.

Speed (issue #18, docs/benchmarks.md): the rotary positions and the SwiGLU gate have
hand-written backward passes (RotaryQKV, SwiGLUFn) that fill preallocated halves in place,
where autograd's versions were mostly chunk/cat/stack copies; under ``torch.compile`` the
plain forms are used instead, and the compiler fuses them. Parameter names and layouts are
unchanged, so every checkpoint loads as before.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn as nn
import torch.nn.functional as F

from holozero.specials import NUM_CLASSES

from .gemm import Linear


def rotary_tables(length: int, head_dim: int, base: float, device, dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """cos [length, head_dim] (the same angles for both halves) and sin [length, head_dim/2]."""
    inv_freq = 1.0 / (base ** (torch.arange(0, head_dim, 2, device=device, dtype=torch.float32) / head_dim))
    angles = torch.outer(torch.arange(length, device=device, dtype=torch.float32), inv_freq)
    return angles.cos().repeat(1, 2).to(dtype), angles.sin().to(dtype)


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """Rotary positions, written into ``out``: the pairs (x1[i], x2[i]) of the two halves of the
    last dim turn by their angle, (x1 cos - x2 sin, x2 cos + x1 sin). The halves of ``out`` are
    filled in place (no ``cat``, no temporaries); pass -sin to turn back."""
    half = x.shape[-1] // 2
    torch.mul(x, cos, out=out)
    out[..., :half].addcmul_(x[..., half:], sin, value=-1)
    out[..., half:].addcmul_(x[..., :half], sin)
    return out


class RotaryQKV(torch.autograd.Function):
    """Fused qkv [B, T, 3, H, D] -> q, k (rotated), v as [B, H, T, D] views.

    Written by hand because autograd's version is mostly copies: chunk + cat in the rotation,
    then the unbind/permute backward stacks and copies the three gradients. Here q and k
    turn in one pass, and the backward writes all three gradients into one buffer. Nothing
    but the tables is saved (the rotation's backward is the inverse rotation)."""

    @staticmethod
    def forward(ctx, qkv: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor):
        B, T, _, H, D = qkv.shape
        qk = rotate(qkv[:, :, :2], cos[:, None, None], sin[:, None, None], qkv.new_empty(B, T, 2, H, D))
        ctx.save_for_backward(cos, sin)
        return qk[:, :, 0].transpose(1, 2), qk[:, :, 1].transpose(1, 2), qkv[:, :, 2].transpose(1, 2)

    @staticmethod
    def backward(ctx, grad_q: torch.Tensor, grad_k: torch.Tensor, grad_v: torch.Tensor):
        cos, sin = ctx.saved_tensors
        B, H, T, D = grad_q.shape
        grad = grad_q.new_empty(B, T, 3, H, D)
        rotate(grad_q, cos, -sin, grad[:, :, 0].transpose(1, 2))
        rotate(grad_k, cos, -sin, grad[:, :, 1].transpose(1, 2))
        grad[:, :, 2].copy_(grad_v.transpose(1, 2))
        return grad, None, None


class SwiGLUFn(torch.autograd.Function):
    """silu(gate) * up from the fused gate_up output [..., 2·hidden]; the backward writes both
    halves of the gradient in place instead of autograd's two products and a ``cat``."""

    @staticmethod
    def forward(ctx, gate_up: torch.Tensor) -> torch.Tensor:
        gate, up = gate_up.chunk(2, dim=-1)
        silu = F.silu(gate)
        ctx.save_for_backward(gate_up, silu)
        return silu * up

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor) -> torch.Tensor:
        gate_up, silu = ctx.saved_tensors
        gate, up = gate_up.chunk(2, dim=-1)
        grad = torch.empty_like(gate_up)
        grad_gate, grad_up = grad.chunk(2, dim=-1)
        torch.mul(grad_out, silu, out=grad_up)
        torch.mul(grad_out, up, out=grad_gate)
        torch.ops.aten.silu_backward.grad_input(grad_gate, gate, grad_input=grad_gate)  # · silu'(gate), in place
        return grad


def qkv_heads(qkv: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor):
    """Fused qkv [B, T, 3, H, D] -> q, k (rotated), v [B, H, T, D]. Eager runs the hand-written
    RotaryQKV; under torch.compile the plain form (which Inductor fuses into one kernel)."""
    if not torch.compiler.is_compiling():
        return RotaryQKV.apply(qkv, cos, sin)
    q, k, v = qkv.permute(2, 0, 3, 1, 4)
    half = q.shape[-1] // 2
    cos, sin = cos[:, :half], sin

    def turn(x):
        x1, x2 = x.chunk(2, dim=-1)
        return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)

    return turn(q), turn(k), v


def swiglu(gate_up: torch.Tensor) -> torch.Tensor:
    """silu(gate) * up of the fused gate_up output: SwiGLUFn in eager, plain ops under compile."""
    if not torch.compiler.is_compiling():
        return SwiGLUFn.apply(gate_up)
    gate, up = gate_up.chunk(2, dim=-1)
    return F.silu(gate) * up


class Attention(nn.Module):
    def __init__(self, dim: int, n_heads: int, dropout: float, gemm: str = "aten"):
        super().__init__()
        if dim % n_heads:
            raise ValueError(f"dim={dim} must be divisible by n_heads={n_heads}")
        self.n_heads, self.head_dim = n_heads, dim // n_heads
        if self.head_dim % 2:
            raise ValueError(f"head_dim={self.head_dim} must be even for rotary positions")
        self.qkv = Linear(dim, 3 * dim, gemm=gemm)
        self.proj = Linear(dim, dim, gemm=gemm)
        self.dropout = dropout

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, cache: dict | None = None) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = qkv_heads(self.qkv(x).view(B, T, 3, self.n_heads, self.head_dim), cos, sin)
        if cache is not None:  # generation: keys/values of earlier positions are kept, not recomputed
            if "k" in cache:
                k, v = torch.cat([cache["k"], k], dim=2), torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        if T > 1 and k.shape[2] != T:
            raise ValueError("a cached step takes one new position at a time")
        y = F.scaled_dot_product_attention(q, k, v, is_causal=T > 1, dropout_p=self.dropout if self.training else 0.0)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))


class SwiGLU(nn.Module):
    def __init__(self, dim: int, hidden: int, dropout: float, gemm: str = "aten"):
        super().__init__()
        self.gate_up = Linear(dim, 2 * hidden, gemm=gemm)
        self.down = Linear(hidden, dim, gemm=gemm)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.down(swiglu(self.gate_up(x))))


class Block(nn.Module):
    def __init__(self, dim: int, n_heads: int, mlp_hidden: int, dropout: float, gemm: str = "aten"):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, n_heads, dropout, gemm)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = SwiGLU(dim, mlp_hidden, dropout, gemm)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, cache: dict | None = None) -> torch.Tensor:
        x = x + self.attn(self.norm1(x), cos, sin, cache)
        return x + self.mlp(self.norm2(x))


class Decoder(nn.Module):
    """Causal decoder over prefix slots ++ stream bytes, returning next-byte logits.

    Args:
        dim: model width (the doors lift to it).
        n_layers, n_heads: depth and attention heads.
        mlp_hidden: SwiGLU hidden width (default 4·dim, which gives ~25M parameters at the
            published dim 512 × 6 layers).
        dropout: attention and MLP dropout.
        rope_base: rotary frequency base.
        gemm: the float32 CPU GEMM library of the Linear layers, ``aten`` (MKL on x86) or
            ``onednn`` (models/gemm.py: same parameters, agrees to fp32 rounding; its GEMMs
            ~2.2× and the body 1.4–1.7× on CPUs where MKL takes its slow path; no effect on GPU).
    """

    def __init__(
        self,
        dim: int = 512,
        n_layers: int = 6,
        n_heads: int = 8,
        mlp_hidden: int | None = None,
        dropout: float = 0.0,
        rope_base: float = 10000.0,
        gemm: Literal["aten", "onednn"] = "aten",
    ):
        super().__init__()
        self.dim, self.n_layers, self.n_heads, self.rope_base = dim, n_layers, n_heads, rope_base
        hidden = mlp_hidden or 4 * dim
        self.blocks = nn.ModuleList(Block(dim, n_heads, hidden, dropout, gemm) for _ in range(n_layers))
        self.norm = nn.LayerNorm(dim)
        self.head = Linear(dim, NUM_CLASSES, gemm=gemm)
        self.apply(self._init)
        for name, p in self.named_parameters():  # scaled residual projections (GPT-2)
            if name.endswith(("attn.proj.weight", "mlp.down.weight")):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * n_layers))

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)

    def hidden(self, x: torch.Tensor, cache: list[dict] | None = None, start: int = 0) -> torch.Tensor:
        """x [B, T, dim] at positions start..start+T-1 -> final normed hidden states.

        With ``cache`` (one dict per block, from ``new_cache()``), keys and values are kept
        for later calls: first call with the whole sequence (start 0), then one position at
        a time (start = positions so far)."""
        T = x.shape[1]
        cos, sin = rotary_tables(start + T, self.dim // self.n_heads, self.rope_base, x.device, x.dtype)
        cos, sin = cos[start:], sin[start:]
        for i, block in enumerate(self.blocks):
            x = block(x, cos, sin, None if cache is None else cache[i])
        return self.norm(x)

    def new_cache(self) -> list[dict]:
        return [{} for _ in self.blocks]

    def forward(self, prefix: torch.Tensor, stream: torch.Tensor) -> torch.Tensor:
        """prefix [B, N, dim], stream [B, M, dim] -> logits [B, M, 258] for stream bytes
        0..M-1 (or [B, M-1, 258] for bytes 1..M-1 when N = 0)."""
        N = prefix.shape[1]
        h = self.hidden(torch.cat([prefix, stream], dim=1))
        start = N - 1 if N > 0 else 0
        return self.head(h[:, start : h.shape[1] - 1])
