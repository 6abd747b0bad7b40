"""``--model holozero`` for lm-evaluation-harness: a holozero byte model scoring lm-eval's requests.

    python -m holozero.commands.lmeval --model holozero --model_args pretrained=tiny-zero \\
        --tasks holozero_text --include_path lm_eval_tasks --batch_size 64   # lm-eval 0.4.13: lmeval.py
    lm_eval --model holozero --model_args pretrained=CKPT_OR_DIR,context=512,stride=256 --tasks ...
                                                    # lm-eval releases that read entry-point plugins

``pretrained`` is an exported folder or Hub repo id (``holozero export``) or a training
checkpoint (``.ckpt``). Requests are text; the model reads their UTF-8 bytes:

- ``loglikelihood_rolling(doc)``: every byte of the document scored once, the document read as
  ``[EOS] + doc`` (EOS is the document boundary of training) in sliding windows of ``context``
  conditioning ids and ``stride`` scored bytes — the windows ``holozero evaluate`` lays over
  one sequence (holozero/likelihood.py). ``context`` and ``stride`` default to the model's
  training layout (``context_bytes``, ``stream_bytes``), as in ``holozero evaluate``.
  lm-eval's ``bits_per_byte`` is then −Σ log-likelihood / Σ UTF-8 bytes / ln 2 over documents.
- ``loglikelihood(context, continuation)``: the continuation's bytes after ``[EOS] + context``,
  in the same windows; ``is_greedy`` when every continuation byte is the argmax.
- ``generate_until``: not provided (NotImplementedError); ``holozero generate`` generates.

``--batch_size`` is windows per forward (lm-eval's default is 1: pass e.g. 64; ``auto`` means
64, capped by ``--max_batch_size``); ``--device`` defaults to CUDA when present, else the CPU
(as does a CUDA device asked for where there is none, logged).
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from lm_eval.api.model import LM
from lm_eval.api.registry import register_model
from tqdm import tqdm

from holozero.likelihood import score_continuations, window_count

from .loading import load_net

log = logging.getLogger(__name__)
AUTO_BATCH = 64  # what --batch_size auto means: no autotuning, a size that fits the models here


def batch_windows(batch_size, max_batch_size) -> int:
    """lm-eval's ``--batch_size`` (an int, a digit string, ``auto`` or ``auto:N``) as windows per forward."""
    text = str(batch_size)
    if text.startswith("auto"):
        return min(AUTO_BATCH, int(max_batch_size)) if max_batch_size else AUTO_BATCH
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"holozero lm-eval model: batch_size must be a positive integer or 'auto', got {batch_size!r}")
    return int(text)


def pick_device(device: str | None) -> torch.device:
    """``--device``, except that a CUDA device without CUDA means the CPU: lm-eval's command line
    passes ``cuda:0`` unless told otherwise, and its own ``hf`` model falls back the same way."""
    if device is None or (str(device).startswith("cuda") and not torch.cuda.is_available()):
        chosen = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        if device is not None:
            log.warning("holozero lm-eval model: device %s is not available, using %s", device, chosen)
        return chosen
    return torch.device(device)


def positive(name: str, value) -> int:
    if isinstance(value, bool) or not str(value).isdigit() or int(value) < 1:
        raise ValueError(f"holozero lm-eval model: model_args {name} must be a positive integer, got {value!r}")
    return int(value)


@register_model("holozero")
class HolozeroLM(LM):
    """A holozero ``ByteModel`` behind lm-eval's ``LM`` interface (see the module docstring)."""

    def __init__(
        self,
        pretrained: str | None = None,
        context: int | None = None,
        stride: int | None = None,
        batch_size: int | str = 1,
        max_batch_size: int | None = None,
        device: str | None = None,
        **unknown,
    ):
        super().__init__()
        if unknown:
            raise ValueError(
                f"holozero lm-eval model: unknown model_args {sorted(unknown)}; it takes pretrained, context, stride"
            )
        if not pretrained:
            raise ValueError(
                "holozero lm-eval model: model_args pretrained=... is required (an export folder or .ckpt)"
            )
        self.pretrained = str(pretrained)
        is_ckpt = Path(self.pretrained).suffix == ".ckpt"
        net, window = load_net(ckpt_path=self.pretrained) if is_ckpt else load_net(model=self.pretrained)
        if (context is None or stride is None) and window is None:
            raise ValueError(
                f"holozero lm-eval model: {self.pretrained} records no training window layout; "
                "pass model_args context=N,stride=N"
            )
        self.context = positive("context", context) if context is not None else window[0]
        self.stride = positive("stride", stride) if stride is not None else window[1]
        self.batch_size = batch_windows(batch_size, max_batch_size)
        self._device = pick_device(device)
        self.net = net.to(self._device).eval()

    def _score(self, pairs: list[tuple[bytes, bytes]], what: str) -> list[tuple[float, bool]]:
        total = window_count(pairs, self.stride)
        with tqdm(total=total, desc=f"holozero {what}", unit="window", disable=self.rank != 0) as bar:
            return score_continuations(self.net, pairs, self.context, self.stride, self.batch_size, bar.update)

    def loglikelihood(self, requests, disable_tqdm: bool = False) -> list[tuple[float, bool]]:
        args = [req.args for req in requests]
        results = self._score([(ctx.encode("utf-8"), cont.encode("utf-8")) for ctx, cont in args], "loglikelihood")
        for arg, result in zip(args, results, strict=True):
            self.cache_hook.add_partial("loglikelihood", arg, result)
        return results

    def loglikelihood_rolling(self, requests, disable_tqdm: bool = False) -> list[float]:
        docs = [req.args[0] for req in requests]
        results = [ll for ll, _ in self._score([(b"", doc.encode("utf-8")) for doc in docs], "loglikelihood_rolling")]
        for doc, ll in zip(docs, results, strict=True):
            self.cache_hook.add_partial("loglikelihood_rolling", (doc,), ll)
        return results

    def generate_until(self, requests, disable_tqdm: bool = False) -> list[str]:
        raise NotImplementedError(
            "holozero's lm-eval model scores bytes (loglikelihood, loglikelihood_rolling: bits_per_byte and "
            "multiple-choice tasks); it does not generate for lm-eval. Generate with "
            "`holozero generate --model DIR --prompt TEXT`."
        )

    def get_model_info(self) -> dict:
        """Recorded in lm-eval's results under ``config``: what was scored, and how."""
        door = self.net.door
        return {
            "model_source": self.pretrained,
            "door": type(door).__name__,
            "K": door.K,
            "per_byte": self.net.per_byte,
            "context": self.context,
            "stride": self.stride,
        }
