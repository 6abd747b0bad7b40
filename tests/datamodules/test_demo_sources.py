import av
import numpy as np
import pytest

from datamodules.demo_sources import (
    DIGIT_WORDS,
    RATES,
    VOICES,
    mnist_digits,
    sklearn_digits,
    speak,
    video_clips,
)

# ---------------------------------------------------------------- digit images


@pytest.mark.parametrize(("load", "count", "side"), [(sklearn_digits, 1797, 8), (mnist_digits, 5000, 28)])
def test_digit_images_shapes_dtypes_ranges_and_labels(load, count, side):
    images, labels = load()
    assert images.shape == (count, side, side) and images.dtype == np.uint8
    assert labels.shape == (count,) and labels.dtype == np.int64
    assert images.min() == 0 and images.max() == 255  # scaled to the full byte range
    assert set(np.unique(labels).tolist()) == set(range(10))
    # callers get copies: editing one must not change the next call's result
    images[0] = 7
    assert not (load()[0][0] == 7).all()


def test_sklearn_digits_are_load_digits_rescaled():
    from sklearn.datasets import load_digits

    ref = load_digits()
    images, labels = sklearn_digits()
    np.testing.assert_array_equal(images[0], np.round(ref.images[0] * 255 / 16).astype(np.uint8))
    np.testing.assert_array_equal(labels, ref.target)


def test_digit_words():
    assert DIGIT_WORDS["en"][7] == "seven" and DIGIT_WORDS["ko"][7] == "칠"
    assert all(len(words) == 10 and len(set(words)) == 10 for words in DIGIT_WORDS.values())


# ---------------------------------------------------------------- speech


def test_speak_gives_float_audio_in_range():
    samples, rate = speak("seven", "en-us")
    assert rate == 22050
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert 0.1 < len(samples) / rate < 3.0  # a word, not silence and not a runaway
    assert np.abs(samples).max() <= 1.0
    assert np.abs(samples).max() > 0.05  # audible


def test_speak_is_deterministic_whatever_was_spoken_before():
    first, _ = speak("seven", "en-us")
    speak("삼 사 오", "ko+f3")  # eSpeak keeps state between utterances: must not leak into the next
    again, _ = speak("seven", "en-us")
    np.testing.assert_array_equal(first, again)
    for voice in ("en-us+f3", "en-us+Reed"):  # random breath noise; Reed draws it from libc rand()
        np.testing.assert_array_equal(speak("seven", voice)[0], speak("seven", voice)[0])


def test_longer_text_gives_longer_audio():
    assert len(speak("seven eight nine", "en-us")[0]) > 1.5 * len(speak("seven", "en-us")[0])
    assert len(speak("칠 팔 구", "ko")[0]) > 1.5 * len(speak("칠", "ko")[0])


@pytest.mark.parametrize("lang", sorted(VOICES))
def test_every_voice_speaks_every_digit_and_voices_differ(lang):
    assert len(VOICES[lang]) >= 3
    per_voice = []
    for voice in VOICES[lang]:
        clips = [speak(word, voice)[0] for word in DIGIT_WORDS[lang]]
        assert all(len(c) > 2000 and np.abs(c).max() > 0.05 for c in clips), voice
        per_voice.append(clips[3])
    for i in range(len(per_voice)):
        for j in range(i + 1, len(per_voice)):
            a, b = per_voice[i], per_voice[j]
            assert len(a) != len(b) or not np.array_equal(a, b), (VOICES[lang][i], VOICES[lang][j])


@pytest.mark.parametrize(("word", "voice"), [("seven", "en-us"), ("칠", "ko")])
def test_faster_rate_gives_shorter_audio(word, voice):
    lengths = [len(speak(word, voice, rate=r)[0]) for r in sorted(RATES)]
    assert lengths == sorted(lengths, reverse=True) and len(set(lengths)) == len(lengths)


@pytest.mark.parametrize("voice", ["en-gb", "zz", "en-us+nosuchvariant"])
def test_unknown_voice_fails_clearly(voice):
    with pytest.raises(RuntimeError, match="no voice"):
        speak("seven", voice)


def test_bad_arguments_fail():
    with pytest.raises(ValueError):
        speak("  ", "en-us")
    with pytest.raises(ValueError):
        speak("seven", "en-us", rate=10)


# ---------------------------------------------------------------- video


def test_video_clips_decode_with_pyav():
    clips = video_clips()
    assert clips and clips == sorted(clips)
    for path in clips:
        assert path.suffix == ".mp4" and path.is_file()
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            frames = 0
            for frame in container.decode(stream):
                assert (frame.width, frame.height) == (stream.width, stream.height)
                frames += 1
        assert frames >= 10, path.name
