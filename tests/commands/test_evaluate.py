"""``holozero evaluate`` end to end: a tiny run trained on a synthetic source of known entropy
rate (the ``markov`` text control), then the command on its checkpoint — the data rebuilt from
the run's config, every test byte scored once, the floors and the exact entropy rate beside it,
checked against values computed here from the control's own files and the stdlib compressors."""

from __future__ import annotations

import bz2
import json
import lzma
import math
import zlib

import numpy as np
import pytest
from helpers import run_cli, tiny_fit_args

from datamodules.controls import markov2_chain
from holozero.commands.evaluate import build_data
from holozero.evaluation import split_bytes
from holozero.floors import CONVENTION

DOC_BYTES = 32768  # the control's documents (datamodules/controls.py synthetic_corpus)


def _content_floors(data: bytes) -> dict[str, float]:
    """Each compressor's output less its fixed framing (tests/core/test_floors.py has the why),
    for an input of one bz2 block and one LZMA2 chunk."""
    import pyppmd

    raw = lzma.compress(
        data, format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}]
    )
    assert len(raw) < 2**16 and len(data) < 899_981  # one chunk, one block
    encoder = pyppmd.Ppmd7Encoder(6, 1 << 28)
    sizes = {
        "zlib": len(zlib.compress(data, 9)) - 8,
        "bz2": len(bz2.compress(data, 9)) - 14 - 10,
        "xz": len(raw) - 6 - 1,
        "ppmd": len(encoder.encode(data) + encoder.flush()) - 5,
    }
    return {name: 8 * size / len(data) for name, size in sizes.items()}


@pytest.mark.slow
def test_evaluate_a_tiny_run_on_a_source_of_known_entropy(tmp_path, capsys):
    root = tmp_path / "runs"
    args = tiny_fit_args(["unused"], root, steps=2, context=16, stream=16)
    run_cli(["fit", *args, "--data.init_args.text.control", "markov"])
    run = root / "lightning_logs" / "version_0"
    ckpt = run / "checkpoints" / "last.ckpt"
    capsys.readouterr()
    run_cli(["evaluate", "--ckpt_path", str(ckpt), "--no_progress", "--batch_size", "256"])
    printed = capsys.readouterr().out
    [written] = run.glob("evaluate-test-step*.json")  # into the evaluated run, named by its step
    report = json.loads(written.read_text())

    assert report["split"] == "test" and report["step"] == 2 and list(report["segments"]) == ["text"]
    text = report["segments"]["text"]
    assert (text["context"], text["stride"]) == (16, 16)  # the training layout
    # the test split is whole documents of the control, each byte scored once
    data = split_bytes(build_data(run / "config.yaml").sources("test")["text"])
    docs = {p.read_bytes() for p in (tmp_path / "cache" / "controls").glob("markov-*/*.bin")}
    assert len(docs) == 32 and all(len(d) == DOC_BYTES for d in docs)
    chunks = [data[i : i + DOC_BYTES] for i in range(0, len(data), DOC_BYTES)]
    assert len(data) % DOC_BYTES == 0 and chunks and all(c in docs for c in chunks)
    assert text["bytes_scored"] == text["bytes_in_split"] == len(data)

    floors = report["floors"]["text"]
    H = markov2_chain(seed=0).entropy_rate  # the control's chain (split_seed 0)
    assert floors["entropy_rate"] == pytest.approx(H, abs=1e-12)
    expected = _content_floors(data)
    assert {k: floors[k] for k in expected} == pytest.approx(expected, abs=1e-12)
    assert H < floors["ppmd"] < floors["zlib"]  # no compressor beats the entropy rate
    assert math.isfinite(text["bpb"]) and text["bpb"] > H  # two steps of training: far above the source's rate

    # the convention stands beside the table, printed and in the JSON
    assert report["floor_convention"] == CONVENTION
    assert f"Floors in bits per byte; {CONVENTION}." in printed
    row = next(line for line in printed.splitlines() if line.startswith("| text |"))
    assert f"{text['bpb']:.4f}" in row and f"{floors['xz']:.4f}" in row and f"{H:.4f}" in row
    assert np.isclose(float(row.split("|")[-2]), H, atol=1e-4)  # the last column: the entropy rate
