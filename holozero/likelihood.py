"""Log-likelihoods of byte continuations under the evaluation protocol (DESIGN.md §5), for
callers that score strings one by one (the lm-eval model, holozero/commands/lm_eval_model.py).

A request is ``(context, continuation)``, both bytes. It is read as the sequence
``[EOS] + context + continuation`` — EOS is the document boundary of training, so an empty
context is the start of a document — and the continuation is scored by the windows of
``holozero.evaluation``: window t scores ``stride`` continuation bytes conditioned on the
``context`` ids before them, laid out as training did (whole K-byte slots in the prefix, the
rest at the head of the stream). With an empty context this is exactly how
``holozero evaluate`` scores one sequence, window for window. Windows of every request are
grouped by shape and run in batches.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

import numpy as np
import torch

from .evaluation import layout
from .losses import token_nats
from .protocols import WindowModel
from .specials import EOS


def spans(start: int, end: int, context: int, stride: int) -> list[tuple[int, int, int]]:
    """(conditioning start, scored start, scored end) scoring positions ``start..end-1`` of a
    sequence ``stride`` at a time, each window conditioned on up to ``context`` ids before it.
    ``spans(1, n + 1, c, s)`` are the windows ``holozero.evaluation.windows(n, c, s)``."""
    if context < 1 or stride < 1:
        raise ValueError(f"context and stride must be ≥ 1, got {context}, {stride}")
    return [(max(0, s - context), s, min(s + stride, end)) for s in range(start, end, stride)]


@torch.no_grad()
def last_logits(net: WindowModel, ids: torch.Tensor, prefix_len: int, n: int) -> torch.Tensor:
    """Logits [B, n, 258] predicting the last ``n`` ids of each window ``ids`` [B, W] whose first
    ``prefix_len`` ids enter as slots. The body's last logit predicts the window's last id, so
    the last ``n`` logits line up with the last ``n`` ids whatever the layout."""
    stream_len = n if net.per_byte else ids.shape[1] - prefix_len  # per-byte: keep n of its W-1
    logits, _ = net(ids, stream_len)
    return logits[:, -n:]


def score_continuations(
    net: WindowModel,
    requests: Sequence[tuple[bytes, bytes]],
    context: int,
    stride: int,
    batch_size: int = 64,
    progress: Callable[[int], None] | None = None,
) -> list[tuple[float, bool]]:
    """(Σ ln p of the continuation's bytes, whether each of them is the argmax of its 258
    logits) per request; the sums accumulate in float64, as ``BitsPerByte`` does."""
    K, per_byte = net.door.K, net.per_byte
    device = next(net.parameters()).device
    groups: dict[tuple[int, int, int], list[tuple[int, np.ndarray]]] = defaultdict(list)  # same shape -> one batch
    for i, (ctx, cont) in enumerate(requests):
        full = np.frombuffer(bytes(ctx) + bytes(cont), dtype=np.uint8).astype(np.int64)
        full = np.concatenate([[EOS], full])
        for c0, s, e in spans(len(ctx) + 1, len(full), context, stride):
            groups[(layout(s - c0, K, per_byte), e - c0, e - s)].append((i, full[c0:e]))
    nats = np.zeros(len(requests), dtype=np.float64)
    greedy = np.ones(len(requests), dtype=bool)
    for (prefix_len, _, n), rows in groups.items():
        for lo in range(0, len(rows), batch_size):
            chunk = rows[lo : lo + batch_size]
            owner = np.array([i for i, _ in chunk])
            ids = torch.from_numpy(np.stack([row for _, row in chunk])).to(device)
            logits = last_logits(net, ids, prefix_len, n)
            targets = ids[:, -n:]
            np.add.at(nats, owner, token_nats(logits, targets).double().sum(1).cpu().numpy())
            np.logical_and.at(greedy, owner, (logits.argmax(-1) == targets).all(1).cpu().numpy())
            if progress is not None:
                progress(len(chunk))
    return [(-float(x), bool(g)) for x, g in zip(nats, greedy, strict=True)]


def window_count(requests: Sequence[tuple[bytes, bytes]], stride: int) -> int:
    """How many windows ``score_continuations`` runs (for a progress bar)."""
    return sum(-(-len(cont) // stride) for _, cont in requests)
