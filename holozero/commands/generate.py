"""``holozero generate``: continue a prompt byte by byte with a trained model (a checkpoint or an
export), its window laid out as in training.

    holozero generate --ckpt_path last.ckpt --prompt "The universe is " --max_bytes 200
    holozero generate --model tiny-zero --prompt_file prompt.bin --temperature 0 --output out.bin

The layout is the one training used: full K-byte slots in the prefix, the remaining bytes
at the head of the per-byte stream, so no prompt byte is lost or shifted. As bytes are
generated the stream grows (one cached step per byte: keys/values of every earlier position
are kept). The prefix takes a new slot whenever the history fills one and the prefix is below
its training size (``context_bytes / K`` slots); once it is full, the stream grows up to
``stream_bytes`` and then the window slides by one whole slot. Each of those layout changes
recomputes the window once; every other byte is one cached step.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import torch

from holozero.specials import EOS, NUM_BYTES, SEP

from .args import CommandParser


def layout(length: int, K: int, context_bytes: int, stream_bytes: int, per_byte: bool) -> tuple[int, int]:
    """(window start, prefix slots) for a history of ``length`` bytes."""
    if per_byte:  # all in the stream; slide by whole slots of K once past the training window
        window = context_bytes + stream_bytes
        return (max(0, math.ceil((length - window) / K) * K), 0)
    slots = min(length // K, context_bytes // K)
    rest = length - slots * K
    start = math.ceil((rest - stream_bytes) / K) * K if rest > stream_bytes else 0
    return start, slots


def sample(logits: torch.Tensor, temperature: float, top_k: int, top_p: float, gen: torch.Generator) -> int:
    """One id from 258-way logits; SEP is never sampled (it is a segment marker, not text)."""
    logits = logits.float().clone()
    logits[SEP] = -math.inf
    if temperature <= 0:
        return int(logits.argmax())
    logits = logits / temperature
    if top_k > 0:
        kth = torch.topk(logits, min(top_k, logits.numel())).values[-1]
        logits[logits < kth] = -math.inf
    probs = torch.softmax(logits, dim=-1)
    if top_p < 1.0:
        ordered, order = probs.sort(descending=True)
        keep = ordered.cumsum(0) - ordered < top_p  # the smallest set whose mass reaches top_p
        probs = torch.zeros_like(probs).scatter(0, order[keep], ordered[keep])
    return int(torch.multinomial(probs / probs.sum(), 1, generator=gen))


class Generator:
    """Generation over a ``ByteModel`` with the window of its training data."""

    def __init__(self, net, context_bytes: int, stream_bytes: int):
        self.net, self.C, self.S = net.eval(), context_bytes, stream_bytes
        self.K, self.per_byte = net.door.K, net.per_byte

    def window_inputs(self, history: list[int]) -> tuple[torch.Tensor, torch.Tensor, int]:
        """(prefix slots, stream vectors, slots) of the current window, featurized once."""
        start, slots = layout(len(history), self.K, self.C, self.S, self.per_byte)
        device = next(self.net.parameters()).device
        ids = torch.tensor([history[start:]], dtype=torch.long, device=device)
        prefix, stream = self.net.door.split_window(ids, slots * self.K)
        return prefix, stream, slots

    @torch.no_grad()
    def generate(
        self,
        prompt: bytes,
        max_bytes: int = 256,
        temperature: float = 1.0,
        top_k: int = 0,
        top_p: float = 1.0,
        seed: int = 0,
        stop_at_eos: bool = True,
        use_cache: bool = True,
        on_logits=None,
    ) -> bytes:
        if not prompt:
            raise ValueError("the prompt is empty: give at least one byte")
        gen = torch.Generator().manual_seed(seed)
        body, history, out = self.net.body, list(prompt), []  # history: ids (bytes and any EOS)
        cache, current, positions = None, None, 0
        for _ in range(max_bytes):
            key = layout(len(history), self.K, self.C, self.S, self.per_byte)
            prefix, stream, _ = self.window_inputs(history)
            if use_cache and cache is not None and key == current:
                h = body.hidden(stream[:, -1:], cache=cache, start=positions)  # one new position
                positions += 1
            else:  # first step or a layout change: the whole window once
                cache = body.new_cache() if use_cache else None
                x = torch.cat([prefix, stream], dim=1)
                h = body.hidden(x, cache=cache)
                current, positions = key, x.shape[1]
            logits = body.head(h[0, -1])
            if on_logits is not None:
                on_logits(logits)
            nxt = sample(logits, temperature, top_k, top_p, gen)
            if nxt == EOS and stop_at_eos:
                break
            # An EOS that does not stop is the next input, a document boundary as in training;
            # it has no byte form, so it never reaches the output.
            history.append(nxt)
            if nxt < NUM_BYTES:
                out.append(nxt)
        return bytes(out)


def load_model(ckpt_path: str | Path | None = None, model: str | Path | None = None):
    """(ByteModel, context_bytes, stream_bytes) from a holozero checkpoint alone, or from an
    exported folder / Hub repo id (``holozero export``)."""
    from .loading import load_net

    net, window = load_net(ckpt_path=ckpt_path, model=model)
    if window is None:
        raise ValueError(f"{ckpt_path or model} records no text window layout: generation needs one")
    context, stream = window
    return net, context, stream


def main(argv: list[str] | None = None) -> None:
    p = CommandParser(
        prog="holozero generate",
        description=__doc__.split("\n\nThe layout")[0].replace("``", ""),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    model = p.add_mutually_exclusive_group(required=True)
    model.add_argument("--ckpt_path", help="a checkpoint written by holozero fit")
    model.add_argument("--model", help="a folder written by holozero export, or a Hub repo id")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--prompt", help="the prompt as UTF-8 text")
    src.add_argument("--prompt_file", help="the prompt as the raw bytes of this file")
    p.add_argument("--max_bytes", type=int, default=256, help="bytes to generate at most (default: %(default)s)")
    p.add_argument("--temperature", type=float, default=1.0, help="0 is greedy (default: %(default)s)")
    p.add_argument(
        "--top_k", type=int, default=0, help="sample among the k likeliest ids; 0: all (default: %(default)s)"
    )
    p.add_argument(
        "--top_p",
        type=float,
        default=1.0,
        help="sample among the likeliest ids holding this mass (default: %(default)s)",
    )
    p.add_argument("--seed", type=int, default=0, help="the sampling seed (default: %(default)s)")
    p.add_argument("--no_stop_at_eos", action="store_true", help="go on past EOS, a document boundary (default: stop)")
    p.add_argument("--no_cache", action="store_true", help="recompute the window for every byte (default: cached)")
    p.add_argument("--output", help="write the raw generated bytes here (default: print them as UTF-8 text)")
    args = p.parse_args(argv)
    prompt = Path(args.prompt_file).read_bytes() if args.prompt_file else args.prompt.encode("utf-8")
    net, context, stream = load_model(args.ckpt_path, args.model)
    out = Generator(net, context, stream).generate(
        prompt,
        args.max_bytes,
        args.temperature,
        args.top_k,
        args.top_p,
        args.seed,
        stop_at_eos=not args.no_stop_at_eos,
        use_cache=not args.no_cache,
    )
    if args.output:
        Path(args.output).write_bytes(out)
    else:
        sys.stdout.write(out.decode("utf-8", errors="replace") + "\n")
