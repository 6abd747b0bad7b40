"""What every input door shares: per-position features, K-packing with a tail policy, and the
lift to model width (DESIGN.md §2).

A door has two paths over the same per-position features:
  ``door(prefix_ids [B, L]) -> [B, ceil(L/K), dim]``  K positions packed into one slot;
  ``door.stream(ids [B, M]) -> [B, M, dim]``           one position per byte.
Subclasses define ``features`` (ids -> [..., L, feat_dim]) and, if they are not fixed
zero-pad doors, ``lift_slots`` / ``lift_stream``.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..packing import check_tail, tail_counts
from ..specials import EOS, NUM_BYTES, NUM_IDS, PAD, SEP


class Door(nn.Module):
    """Base class. ``fixed = True`` doors zero-pad their features to width and must satisfy
    ``K·feat_dim ≤ dim``; learned doors map features to width with parameters."""

    name: str = ""
    fixed: bool = True
    hsl_layout: bool = False  # per-position features are HSL's 27 channels in HSL's column order
    slot_modules: tuple[str, ...] = ()  # submodules only the slot path uses (see ``drop_slot_path``)

    def __init__(self, K: int = 8, dim: int = 512, tail: str = "pad"):
        super().__init__()
        if not isinstance(K, int) or K < 1:
            raise ValueError(f"K must be a positive integer, got {K!r}")
        if not isinstance(dim, int) or dim < 1:
            raise ValueError(f"dim must be a positive integer, got {dim!r}")
        self.K, self.dim, self.tail = K, dim, check_tail(tail)
        self.dropped_bytes = 0  # running count of positions discarded by tail="drop"
        self.has_slot_path = True

    # --- to define in subclasses -------------------------------------------------------
    @property
    def feat_dim(self) -> int:
        raise NotImplementedError

    def features(self, ids: torch.Tensor) -> torch.Tensor:
        """[..., L] ids -> [..., L, feat_dim] per-position features (causal in L)."""
        raise NotImplementedError

    def lift_slots(self, slots: torch.Tensor) -> torch.Tensor:
        """[B, N, K, feat_dim] -> [B, N, dim]: fixed doors place the K·feat_dim channels at
        fixed addresses and zero-pad the rest."""
        flat = slots.flatten(-2)
        return F.pad(flat, (0, self.dim - flat.shape[-1]))

    def lift_stream(self, feats: torch.Tensor) -> torch.Tensor:
        """[B, M, feat_dim] -> [B, M, dim]."""
        return F.pad(feats, (0, self.dim - feats.shape[-1]))

    # --- shared ------------------------------------------------------------------------
    def check_width(self) -> None:
        """Fixed doors: K·feat_dim must fit in dim. Call at the end of ``__init__``."""
        if self.fixed and self.K * self.feat_dim > self.dim:
            best = self.dim // self.feat_dim
            hint = f"the largest valid K is {best}" if best else f"no K fits: dim must be ≥ {self.feat_dim}"
            raise ValueError(
                f"{type(self).__name__}: K·feat_dim = {self.K}·{self.feat_dim} = "
                f"{self.K * self.feat_dim} exceeds dim={self.dim}; {hint}"
            )

    @property
    def learned_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def drop_slot_path(self) -> None:
        """Remove what only the slot path uses (a slot table, a slot projection): a model that
        reads every byte through ``stream`` (the per-byte baseline) never trains it, so it is
        neither held nor counted. The slot path then refuses to run."""
        for name in self.slot_modules:
            delattr(self, name)
        self.has_slot_path = False

    def forward(self, prefix_ids: torch.Tensor) -> torch.Tensor:
        return self.slots(self.features(prefix_ids))

    def stream(self, ids: torch.Tensor) -> torch.Tensor:
        return self.lift_stream(self.features(ids))

    def split_window(self, ids: torch.Tensor, prefix_len: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Featurize a whole window once, then split: (prefix slots [B, N, dim], stream
        [B, M, dim]). Context channels look backwards, so the stream's first bytes see the
        prefix's last bytes exactly as they did in the window."""
        if not 0 <= prefix_len <= ids.shape[-1]:
            raise ValueError(f"prefix_len={prefix_len} outside the window of {ids.shape[-1]} positions")
        feats = self.features(ids)
        return self.slots(feats[..., :prefix_len, :]), self.lift_stream(feats[..., prefix_len:, :])

    def slots(self, feats: torch.Tensor) -> torch.Tensor:
        """[B, L, feat_dim] -> [B, N, dim] under the tail policy."""
        B, L = feats.shape[0], feats.shape[1]
        if not self.has_slot_path:
            if L:
                raise RuntimeError(f"{type(self).__name__} was built stream-only (per-byte): it has no slot path")
            return self.lift_stream(feats)  # an empty prefix ([B, 0, dim]) needs no slot table
        n_pad, n_drop = tail_counts(L, self.K, self.tail)
        if n_pad:
            # Specials carry no context, so a PAD's features do not depend on what precedes it.
            pad = self.features(torch.full((B, n_pad), PAD, dtype=torch.long, device=feats.device))
            feats = torch.cat([feats, pad.to(feats.dtype)], dim=1)
        if n_drop:  # the oldest positions go, so the last slot still ends right before the stream
            feats = feats[:, n_drop:]
            self.dropped_bytes += B * n_drop
        return self.lift_slots(feats.reshape(B, -1, self.K, feats.shape[-1]))

    def extra_repr(self) -> str:
        return f"K={self.K}, dim={self.dim}, tail={self.tail!r}, feat_dim={self.feat_dim}"


def draw_seed(table_seed: int | None) -> int:
    """The seed a control door draws its table (or a learned table its init) with: ``table_seed``
    when pinned, else the run's seed — ``torch.initial_seed()``, which ``--seed_everything N``
    sets to N before the model is built — so an interval over seeds covers the table drawn,
    not only training noise. Doors keep it as a persistent ``table_seed`` buffer, so the
    checkpoint records it and a loaded model has the table it was trained with."""
    return int(table_seed) if table_seed is not None else torch.initial_seed() % 2**63


# Two flag channels, appended by fixed doors whose own channels cannot tell the specials
# apart from every byte (e.g. raw bits: PAD would look like 0x00).
SPECIAL_FLAGS = torch.zeros(NUM_IDS, 2)
SPECIAL_FLAGS[SEP] = torch.tensor([1.0, 0.0])
SPECIAL_FLAGS[EOS] = torch.tensor([0.0, 1.0])
SPECIAL_FLAGS[PAD] = torch.tensor([1.0, 1.0])


def specials_distinct(value_rows: torch.Tensor) -> bool:
    """True when rows 256..258 of a [259, F] per-id table differ from each other and from
    every byte row, i.e. the table alone keeps specials distinguishable."""
    if value_rows.shape[1] == 0:
        return False
    specials = value_rows[NUM_BYTES:]
    if torch.unique(specials, dim=0).shape[0] != specials.shape[0]:
        return False
    same = (specials[:, None, :] == value_rows[None, :NUM_BYTES, :]).all(-1)
    return not bool(same.any())


def with_special_flags(value_rows: torch.Tensor) -> torch.Tensor:
    """Append the flag channels iff the table needs them (decided once, at construction)."""
    if specials_distinct(value_rows):
        return value_rows
    return torch.cat([value_rows, SPECIAL_FLAGS.to(value_rows.dtype)], dim=1)
