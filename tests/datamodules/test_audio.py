"""load_mulaw / encode_mulaw: bytes checked against torchaudio computed here, and every bad file named."""

import numpy as np
import pytest
import soundfile
import torch
import torchaudio.functional as AF

from datamodules.audio import encode_mulaw, load_mulaw
from datamodules.errors import BadItemError


def tone(rate, seconds=0.5, freq=440.0, amplitude=0.5):
    t = np.arange(int(rate * seconds)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_bytes_match_torchaudio_computed_independently(tmp_path):
    path = tmp_path / "a.wav"
    signal = tone(16000)
    soundfile.write(path, signal, 16000, subtype="FLOAT")
    expected = AF.mu_law_encoding(AF.resample(torch.from_numpy(signal), 16000, 8000).clamp(-1, 1), 256)
    got = load_mulaw(path)
    assert got.dtype == torch.uint8 and got.shape == (4000,)
    assert torch.equal(got.long(), expected)
    assert torch.equal(encode_mulaw(signal, 16000), got)


def test_mulaw_codes_of_known_values():
    # μ-law (μ=255) puts 0 at code 128 (rounding of 127.5 up), -1 at 0 and +1 at 255
    assert encode_mulaw(np.array([-1.0, 0.0, 1.0, 2.0]), 8000).tolist() == [0, 128, 255, 255]


def test_stereo_int16_44k_equals_mono_float_8k(tmp_path):
    stereo, mono = tmp_path / "stereo.wav", tmp_path / "mono.wav"
    soundfile.write(stereo, np.stack([tone(44100)] * 2, axis=1), 44100, subtype="PCM_16")
    soundfile.write(mono, tone(8000), 8000, subtype="FLOAT")
    a, b = load_mulaw(stereo), load_mulaw(mono)
    assert a.shape == b.shape == (4000,)
    # resampling 44.1k -> 8k is a windowed-sinc filter that sees zeros past both ends of the
    # signal, so the first and last few output samples differ; compare the interior only
    diff = (a[20:-20].int() - b[20:-20].int()).abs()
    assert diff.max() <= 1
    assert diff.float().mean() < 0.5  # mostly identical, not just within one step


@pytest.mark.parametrize("fmt", ["FLAC", "OGG"])
def test_flac_and_ogg_decode(tmp_path, fmt):
    path = tmp_path / f"a.{fmt.lower()}"
    soundfile.write(path, tone(8000), 8000, format=fmt)
    got = load_mulaw(path)
    assert got.shape == (4000,)
    # compare as waveforms: μ-law codes near zero are steep, so lossy Vorbis moves codes a lot there;
    # 8-bit μ-law alone is within 0.01 of a 0.5-amplitude tone, Vorbis adds a little
    error = (AF.mu_law_decoding(got.long(), 256) - torch.from_numpy(tone(8000))).abs()
    assert error.max() < (0.011 if fmt == "FLAC" else 0.05)


def _valid_wav(tmp_path):
    path = tmp_path / "valid.wav"
    soundfile.write(path, tone(8000), 8000, subtype="PCM_16")
    return path.read_bytes()


def _bad_files(tmp_path):
    data = _valid_wav(tmp_path)
    zero = tmp_path / "zero_frames.wav"
    soundfile.write(zero, np.zeros((0, 1), np.float32), 8000)
    files = {"missing": tmp_path / "missing.wav", "zero_frames": zero}
    contents = {
        "empty": b"",
        "header_cut": data[:22],  # stops inside the fmt chunk: no data chunk at all
        "data_cut": data[: len(data) // 2],  # header promises twice the samples present
        "garbage": bytes(range(256)) * 8,
    }
    for name, content in contents.items():
        files[name] = tmp_path / f"{name}.wav"
        files[name].write_bytes(content)
    return files


@pytest.mark.parametrize("kind", ["missing", "empty", "zero_frames", "header_cut", "data_cut", "garbage"])
def test_bad_files_raise_naming_the_path(tmp_path, kind):
    path = _bad_files(tmp_path)[kind]
    with pytest.raises(BadItemError) as info:
        load_mulaw(path)
    assert str(path) in str(info.value) and info.value.path == str(path)
