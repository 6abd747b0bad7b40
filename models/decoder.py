"""The decoder body (DESIGN.md §3): a plain nn.Module, readable top to bottom.

Input is the concatenation ``[N prefix slots] ++ [M stream bytes]`` of door outputs, all
already at model width. Attention is causal across the whole concatenation, so stream byte
j sees every prefix slot and stream bytes ≤ j. Every stream byte is scored: the last prefix
slot predicts stream byte 0, stream byte j predicts stream byte j+1. With an empty prefix
(the per-byte baseline) the first stream byte has no predictor and M-1 bytes are scored.

Pre-norm blocks, rotary positions over the concatenated sequence, SwiGLU MLP,
``F.scaled_dot_product_attention`` (flash / memory-efficient kernels where available), and
a 258-way head (256 bytes, SEP, EOS). At dim 512, 6 layers, 8 heads this is ~25M parameters.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from holozero.specials import NUM_CLASSES


def rotary_tables(length: int, head_dim: int, base: float, device, dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """cos, sin of shape [length, head_dim/2] for rotary position embedding."""
    inv_freq = 1.0 / (base ** (torch.arange(0, head_dim, 2, device=device, dtype=torch.float32) / head_dim))
    angles = torch.outer(torch.arange(length, device=device, dtype=torch.float32), inv_freq)
    return angles.cos().to(dtype), angles.sin().to(dtype)


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x [B, H, T, D]: rotate pairs (first half, second half) of each head by position."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


class Attention(nn.Module):
    def __init__(self, dim: int, n_heads: int, dropout: float):
        super().__init__()
        if dim % n_heads:
            raise ValueError(f"dim={dim} must be divisible by n_heads={n_heads}")
        self.n_heads, self.head_dim = n_heads, dim // n_heads
        if self.head_dim % 2:
            raise ValueError(f"head_dim={self.head_dim} must be even for rotary positions")
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.proj = nn.Linear(dim, dim, bias=False)
        self.dropout = dropout

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, cache: dict | None = None) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.n_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
        if cache is not None:  # generation: keys/values of earlier positions are kept, not recomputed
            if "k" in cache:
                k, v = torch.cat([cache["k"], k], dim=2), torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        if T > 1 and k.shape[2] != T:
            raise ValueError("a cached step takes one new position at a time")
        y = F.scaled_dot_product_attention(q, k, v, is_causal=T > 1, dropout_p=self.dropout if self.training else 0.0)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))


class SwiGLU(nn.Module):
    def __init__(self, dim: int, hidden: int, dropout: float):
        super().__init__()
        self.gate_up = nn.Linear(dim, 2 * hidden, bias=False)
        self.down = nn.Linear(hidden, dim, bias=False)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate, up = self.gate_up(x).chunk(2, dim=-1)
        return self.drop(self.down(F.silu(gate) * up))


class Block(nn.Module):
    def __init__(self, dim: int, n_heads: int, mlp_hidden: int, dropout: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, n_heads, dropout)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = SwiGLU(dim, mlp_hidden, dropout)

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
    """

    def __init__(
        self,
        dim: int = 512,
        n_layers: int = 6,
        n_heads: int = 8,
        mlp_hidden: int | None = None,
        dropout: float = 0.0,
        rope_base: float = 10000.0,
    ):
        super().__init__()
        self.dim, self.n_layers, self.n_heads, self.rope_base = dim, n_layers, n_heads, rope_base
        hidden = mlp_hidden or 4 * dim
        self.blocks = nn.ModuleList(Block(dim, n_heads, hidden, dropout) for _ in range(n_layers))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, NUM_CLASSES, bias=False)
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
