"""Own captioned data that does not fit the window is said at setup, once, one line a part,
with the window that would fit it (datamodules/window_fit.py)."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
import soundfile
import torch
import torchvision.io as tio

from datamodules import CaptionedDataModule
from datamodules.components import CaptionedComponent

SECONDS, RATE = 0.5, 8000  # every recording: a tone from its first sample, 4,000 μ-law bytes at 8 kHz
CAPTIONS = ["a" * 5] * 10 + ["b" * 20] * 9 + ["c" * 30]  # 20 items: 19 of ≤ 20 bytes, one of 30


@pytest.fixture
def metadata(tmp_path):
    lines = []
    for i, caption in enumerate(CAPTIONS):
        tio.write_png(torch.full((1, 8, 8), 10 * i, dtype=torch.uint8), str(tmp_path / f"{i}.png"))
        t = np.arange(int(SECONDS * 16000)) / 16000
        soundfile.write(tmp_path / f"{i}.wav", 0.4 * np.sin(2 * np.pi * (200 + 20 * i) * t), 16000)
        lines.append(json.dumps({"image": f"{i}.png", "audio": f"{i}.wav", "caption": caption}))
    (tmp_path / "metadata.jsonl").write_text("\n".join(lines) + "\n")
    return tmp_path / "metadata.jsonl"


def _fit_warnings(metadata, caplog, audio_bytes: int, caption_bytes: int) -> list[str]:
    layout = CaptionedComponent(
        metadata=str(metadata), frame_size=4, audio_bytes=audio_bytes, caption_bytes=caption_bytes
    )
    dm = CaptionedDataModule(captioned=layout, K=8, batch_size=2, val_bytes=64, cache_dir=str(metadata.parent / "c"))
    caplog.clear()
    with caplog.at_level(logging.INFO):
        dm.setup()
    lines = [line for r in caplog.records for line in r.getMessage().splitlines()]
    return [line for line in lines if "warning" in line]


def test_a_window_that_keeps_little_says_so_with_a_fit(metadata, caplog):
    # prefix 16 frame + SEP + 502 audio + SEP = 520 ids = 65 slots of 8; captions cut at 15 bytes + EOS
    audio, captions = _fit_warnings(metadata, caplog, audio_bytes=502, caption_bytes=16)
    assert audio.startswith("holozero: warning: captioned: the windows keep")
    n, total = len(CAPTIONS), int(SECONDS * RATE)
    assert f"keep {n * 502 / RATE:.2f} s of the items' {n * total / RATE:.2f} s of audio ({502 / total:.1%};" in audio
    assert "audio_bytes 502 = 63 ms at 8,000 Hz" in audio
    # 4,000 bytes each: the prefix that holds one whole is 16 + 2 + 4,000 rounded up to whole slots of 8
    prefix = -(-(16 + 2 + total) // 8) * 8
    assert f"audio_bytes {prefix - 18:,} keeps 100% of the {n} recordings whole and 100.0% of the audio" in audio
    assert f"(a prefix of {prefix:,} ids: {prefix // 8} slots of K=8)" in audio
    cut = [c for c in CAPTIONS if len(c) > 15]
    lost = sum(len(c) - 15 for c in cut)
    assert captions.startswith(f"holozero: warning: captioned: {len(cut)} of {n} captions ({len(cut) / n:.1%}) are cut")
    assert f"{lost} of their {sum(map(len, CAPTIONS))} bytes" in captions
    assert "caption_bytes 21 keeps 95% of the captions whole, 31 every one" in captions  # 19 of 20 ≤ 20 bytes


def test_a_window_that_fits_says_nothing(metadata, caplog):
    assert _fit_warnings(metadata, caplog, audio_bytes=4006, caption_bytes=31) == []
    # one caption in 20 cut (5%, under the 10% that warns) and every recording whole: still quiet
    assert _fit_warnings(metadata, caplog, audio_bytes=4006, caption_bytes=21) == []
