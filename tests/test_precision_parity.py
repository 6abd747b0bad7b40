"""scripts/precision_parity.py: the paired difference, its interval and the rule, by hand."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import precision_parity  # noqa: E402


def _records(text32, text16, audio32, audio16):
    recs = []
    for seed in range(3):
        for configs, text, audio in (([], text32, audio32), (["x/bf16_mixed.yaml"], text16, audio16)):
            final = {"eval/text_bpb": text[seed], "eval/audio_bpb": audio[seed]}
            recs.append({"run": {"configs": configs, "seed": seed}, "status": "done", "final": final})
    return recs


def test_the_difference_and_the_rule():
    # text: Δ = +0.01 each seed (interval 0 wide); fp32 sd = 0.1 -> within; audio: Δ +0.5 > sd 0.1 -> not
    recs = _records([3.0, 3.1, 3.2], [3.01, 3.11, 3.21], [6.0, 6.1, 6.2], [6.5, 6.6, 6.7])
    text, parity = precision_parity.table(recs)
    row = next(line for line in text.splitlines() if line.startswith("| text bpb"))
    assert "3.1000 ± 0.1000" in row and "+0.0100 [+0.0100, +0.0100] (n=3)" in row and row.endswith("| yes |")
    assert next(x for x in text.splitlines() if x.startswith("| audio bpb")).endswith("| NO |")
    assert parity is False


def test_text_must_also_be_within_two_hundredths():
    recs = _records([3.0, 3.5, 4.0], [3.03, 3.53, 4.03], [6.0, 6.1, 6.2], [6.0, 6.1, 6.2])
    _, parity = precision_parity.table(recs)
    assert parity is False  # Δ 0.03 is inside the 0.5 spread but over 0.02
    c = precision_parity.compare({0: 1.0, 1: 2.0}, {0: 1.5, 1: 2.5})
    assert c["diff"]["mean"] == pytest.approx(0.5)
