"""The seed package's API on holozero's zero door, for code written against
``hsl-embedding-zero`` 0.1.2 (``from hsl_embedding_zero import ZeroInput, zero_input``):

    from holozero import ZeroInput, zero_input

    door = ZeroInput(K=8, dim=512)      # 0 learned parameters
    door(ids)                           # [B, L] -> [B, ceil(L/K), dim]: K bytes per slot
    door.stream(ids)                    # [..., L] -> [..., L, dim]: one position per byte
    door.features(ids)                  # [..., L] -> [..., L, 27]: the HSL features
    zero_input(b"raw bytes")            # [1, ceil(len/K), dim], the one-call form

Same signatures, shapes and values as the seed: forward, stream and features are bit-identical
to it whenever K divides L (tests/core/test_seed_api.py, with the seed package as the oracle;
this module never imports it). Where K does not divide L the two differ by design, and the
tail policy says how (``tail`` is explicit in both; both default to ``"pad"``):

- ``pad``: the seed completes the last slot with byte 0x00, a real byte value (phase_cos 1,
  and a Δ² against the byte before it), so the slot reads as if the text went on with NULs.
  holozero completes it with PAD (id 258), an input-only id whose 27 features are all zero,
  distinct from every byte. The slot's first L mod K positions agree; the padded positions
  hold 0x00's features in the seed and zeros in holozero.
- ``drop``: the seed drops the newest L mod K bytes (the right end); holozero drops the
  oldest (the left end), so the prefix stays contiguous with the stream that follows it,
  and the kept bytes' context channels still see the dropped ones (DESIGN.md §2).
- ``error`` (holozero only): refuses a length K does not divide.

Ids may also be holozero's specials (SEP 256, EOS 257, PAD 258); the seed takes bytes only.
"""

from __future__ import annotations

import torch

from .doors.hsl import ZeroDoor


class ZeroInput(ZeroDoor):
    """Byte ids -> attention slots with zero learned parameters: holozero's ``ZeroDoor`` under
    the seed's name. ``ZeroInput(K=8, dim=512, tail="pad")``; ``K·27 ≤ dim`` (K ≤ 18 at dim 512).
    ``tail`` is ``"pad"`` (PAD-complete the last slot: holozero's default), ``"drop"`` (drop
    the oldest L mod K bytes) or ``"error"``; see the module docstring for the seed's tails."""


def zero_input(data: bytes, K: int = 8, dim: int = 512, device="cpu", tail: str = "pad") -> torch.Tensor:
    """Raw bytes -> [1, ceil(len/K), dim] slots (``tail="drop"``: floor), zero learned parameters."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        hint = " (encode text first, e.g. text.encode('utf-8'))" if isinstance(data, str) else ""
        raise TypeError(f"zero_input takes bytes, got {type(data).__name__}{hint}")
    ids = torch.tensor(list(bytes(data)), dtype=torch.long, device=device).unsqueeze(0)
    return ZeroInput(K, dim, tail).to(device)(ids)
