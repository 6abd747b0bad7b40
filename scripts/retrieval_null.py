"""What a media-blind scorer gets from the retrieval probe on the embedded captioned corpora.

    python scripts/retrieval_null.py             # binding and spoken_digits, the quickstart's layout, 8 candidates

The scorer is a caption prior: an order-2 byte model (add-one smoothed) fit on the train
split's captions, which never reads the frame or the audio — what a model that ignores the
media can do at best from the captions alone. It is scored on the val and test splits by the
probe the callbacks run (``holozero.probes.run_probes``, 64 items, seed 0); a blind scorer's
figure is its own null, and the 1/N of a random ranking is printed beside it for comparison.
"""

from __future__ import annotations

import argparse
import math
from collections import Counter

import numpy as np
import torch

from datamodules import CaptionedDataModule
from datamodules.components import CaptionedComponent
from holozero.probes import run_probes
from holozero.specials import EOS, NUM_BYTES


class CaptionPrior:
    """score(): −log p of each caption byte (and EOS) under an order-2 byte model of the train captions."""

    device = torch.device("cpu")

    def __init__(self, streams: np.ndarray):
        self.tri, self.bi = Counter(), Counter()
        for row in streams:
            seq = [EOS, EOS, *row[row < NUM_BYTES].tolist(), EOS]
            for a, b, c in zip(seq, seq[1:], seq[2:], strict=False):
                self.tri[a, b, c] += 1
                self.bi[a, b] += 1

    def nats(self, a: int, b: int, c: int) -> float:
        return -math.log((self.tri[a, b, c] + 1) / (self.bi[a, b] + NUM_BYTES + 1))

    def score(self, batch):
        targets = batch["ids"][:, -batch["segment"].shape[1] :]
        out = torch.zeros(targets.shape, dtype=torch.float64)
        for r, row in enumerate(targets.tolist()):
            a, b = EOS, EOS
            for s, c in enumerate(row):
                if c > EOS:  # PAD after the caption: not a target
                    break
                out[r, s] = self.nats(a, b, c)
                a, b = b, c
        return out, targets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=8)
    parser.add_argument("--max_items", type=int, default=64)
    args = parser.parse_args()
    for corpus in ("binding", "spoken_digits"):
        dm = CaptionedDataModule(captioned=CaptionedComponent(corpus=corpus, audio_bytes=510, caption_bytes=24), K=8)
        dm.setup()
        prior = CaptionPrior(dm.train_sources["captioned"].stream)
        for split in ("val", "test"):
            source = {"captioned": getattr(dm, f"{split}_sources")["captioned"]}
            r = run_probes(prior, source, max_items=args.max_items, candidates=args.candidates)["retrieval"]
            if r["status"] != "ok":
                print(f"{corpus} {split}: retrieval {r['status']} ({r['valid_items']} items ranked)")
                continue
            print(
                f"{corpus} {split}: caption prior R@1 {r['R@1']:.3f}, MRR {r['MRR']:.3f} over {r['n']} items; "
                f"a random ranking's R@1 {1 / args.candidates:.3f}, MRR "
                f"{np.mean(1 / np.arange(1, args.candidates + 1)):.3f}"
            )


if __name__ == "__main__":
    main()
