"""How often a mismatched pair keeps the right caption, on the embedded captioned corpora.

    python scripts/same_caption_rate.py                # binding and spoken_digits, the quickstart's layout
    python scripts/same_caption_rate.py --windows 50000

Two mismatches should never pair an item's conditioning with its own caption text:

- the shuffled-caption control (``shuffle_captions: true``): the share of sampled training
  windows whose caption is one of the captions of the items that have that window's prefix
  (read from the sampled windows themselves, so it holds for any sampler);
- the binding gap's donors (``holozero.binding.gap_pairs``), per variant and split: the share
  of items whose donor has the same caption.

Two items with one label have one caption, so "another item" is not "another caption".
"""

from __future__ import annotations

import argparse
from collections import defaultdict

import numpy as np

from datamodules import CaptionedDataModule
from datamodules.components import CaptionedComponent
from holozero.binding import SWAPS, gap_pairs


def control_rate(source, windows: int, seed: int) -> tuple[int, int, int]:
    """(windows that kept their item's caption, windows whose prefix several captions share,
    windows sampled). A window's item is known from its prefix where every item with that prefix
    has one caption; a prefix shared by items of two captions (two recordings whose first
    ``audio_bytes`` are identical) is counted apart: no sampler can tell which was drawn."""
    own = defaultdict(set)  # prefix -> the captions of the items that have it
    for p, s in zip(source.prefix, source.stream, strict=True):
        own[p.tobytes()].add(s.tobytes())
    ids = source.sample(np.random.default_rng(seed), windows)["ids"].numpy().astype(source.prefix.dtype)
    C = source.prefix.shape[1]
    kept = shared = 0
    for row in ids:
        captions = own[row[:C].tobytes()]
        if len(captions) > 1:
            shared += 1
        else:
            kept += row[C:].tobytes() in captions
    return kept, shared, windows


def donor_rate(source, parts, max_items: int) -> tuple[int, int]:
    """(items whose donor has the item's caption, items) of one binding variant."""
    items, donors = gap_pairs(source, parts, max_items)
    same = (source.stream[items] == source.stream[donors]).all(axis=1)
    return int(same.sum()), len(items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--windows", type=int, default=100_000, help="training windows sampled from the control")
    parser.add_argument("--max_items", type=int, default=512, help="items of a binding variant (the callback's)")
    args = parser.parse_args()
    for corpus in ("binding", "spoken_digits"):
        layout = CaptionedComponent(corpus=corpus, audio_bytes=510, caption_bytes=24, shuffle_captions=True)
        dm = CaptionedDataModule(captioned=layout, K=8)
        dm.setup()
        kept, shared, n = control_rate(dm.train_sources["captioned"], args.windows, seed=0)
        print(
            f"{corpus}: shuffle_captions keeps the item's caption in {kept} of {n - shared:,} train windows "
            f"({kept / (n - shared):.2%}); {shared:,} more have a prefix that items of 2+ captions share"
        )
        for split in ("val", "test"):
            source = getattr(dm, f"{split}_sources")["captioned"]
            for variant, parts in SWAPS.items():
                same, items = donor_rate(source, parts, args.max_items)
                share = f"{same / items:.2%}" if items else "-"
                told = f"{same} of {items} donors have the item's caption ({share})"
                print(f"{corpus}: {split} binding_gap/{variant}: {told}")


if __name__ == "__main__":
    main()
