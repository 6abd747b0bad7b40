"""What the embedded corpus's held-out splits hold, at a config's settings (the quickstart's by
default): the frame modality per split (clips, near-duplicate groups, windows), the distances
between clips, and how the speech recordings of the test split relate to those in train.

    python scripts/demo_splits.py [--config configs/quickstart.yaml]

The captioned, audio and frames components are built as the data module builds them (one
``SourceSplits``, captioned first), into $HOLOZERO_CACHE. Distances: mean |Δ| per pixel (0..255)
between two clips' frames at the same times, over the frames both have.
"""

from __future__ import annotations

import argparse
import hashlib
from collections import Counter
from itertools import combinations
from pathlib import Path

import numpy as np
import soundfile
import yaml

from datamodules.base import BUILD_ORDER, BadItems
from datamodules.components import AudioComponent, CaptionedComponent, FramesComponent
from datamodules.frames import video_frames
from datamodules.splits import SPLITS, SourceSplits

ROOT = Path(__file__).resolve().parents[1]
KINDS = {"captioned": CaptionedComponent, "audio": AudioComponent, "frames": FramesComponent}


def build(settings: dict) -> tuple[dict, dict]:
    """(components, their window sources per split), built in the data module's order."""
    splits, parts, sources = SourceSplits(), {}, {}
    for name in BUILD_ORDER:
        if name in KINDS:
            parts[name] = KINDS[name](**(settings.get(name) or {}))
            sources[name] = parts[name].build(None, BadItems("error"), splits)
    return parts, sources


def kind(path: str) -> str:
    return "moving digits" if Path(path).name.startswith("moving_digits") else "real"


def distance(a: np.ndarray, b: np.ndarray) -> float:
    n = min(len(a), len(b))
    return float(np.abs(a[:n].astype(np.float64) - b[:n].astype(np.float64)).mean())


def frames_report(frames: FramesComponent, sources: dict) -> None:
    print(f"## frames ({frames.frame_size}×{frames.frame_size}, {frames.fps} fps, {frames.prefix_len}-byte prefix)")
    print("near-duplicate groups:", [[Path(f).name for f in g] for g in frames.groups])
    for s in SPLITS:
        count = Counter(kind(f) for f in frames.files[s])
        print(f"{s:5s}: {len(frames.files[s])} clips ({dict(count)}), {sources[s].distinct_windows()} windows")
    split_of = {f: s for s in SPLITS for f in frames.files[s]}
    for size in sorted({8, 16, frames.frame_size}):
        clips = {f: video_frames(f, frames.fps, size).numpy() for f in split_of}
        pairs = {}
        for a, b in combinations(sorted(clips), 2):
            pairs.setdefault(" / ".join(sorted((kind(a), kind(b)))), []).append(
                (distance(clips[a], clips[b]), Path(a).name, Path(b).name, split_of[a] != split_of[b])
            )
        print(f"distances at {size}×{size}:")
        for which, ds in sorted(pairs.items()):
            d = np.array([x[0] for x in ds])
            cross = [x[0] for x in ds if x[3]]
            print(
                f"  {which}: {len(ds)} pairs, min {d.min():.2f} median {np.median(d):.2f} max {d.max():.2f}; "
                f"across splits min {min(cross):.2f}"
            )
            if which == "real / real":
                for dist, a, b, across in sorted(ds):
                    print(f"    {a} - {b}: {dist:.2f}{' (across splits)' if across else ''}")


def speech_report(audio: AudioComponent) -> None:
    print("## speech (audio continuation)")
    names = {s: [Path(f).stem for f in audio.files[s]] for s in SPLITS}  # lang_digit_vV_rRATE
    for s in SPLITS:
        print(f"{s:5s}: {len(names[s])} recordings")
    train_words = {n.rsplit("_", 1)[0] for n in names["train"]}  # lang_digit_vV: a word by a voice
    train_word = {n.split("_v")[0] for n in names["train"]}
    for s in ("val", "test"):
        same_voice = sum(n.rsplit("_", 1)[0] in train_words for n in names[s])
        same_word = sum(n.split("_v")[0] in train_word for n in names[s])
        print(
            f"{s}: {same_voice} of {len(names[s])} recordings have their word by their voice at another rate in "
            f"train; {same_word} have their word in train"
        )
    digests = Counter()
    for s in SPLITS:
        for f in audio.files[s]:
            samples, _ = soundfile.read(f, dtype="int16")
            digests[hashlib.sha256(samples.tobytes()).hexdigest()] += 1
    print(f"identical recordings (same samples): {sum(c - 1 for c in digests.values())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=str(ROOT / "configs" / "quickstart.yaml"))
    args = parser.parse_args()
    settings = yaml.safe_load(Path(args.config).read_text())["data"]["init_args"]
    parts, sources = build(settings)
    frames_report(parts["frames"], sources["frames"])
    speech_report(parts["audio"])


if __name__ == "__main__":
    main()
