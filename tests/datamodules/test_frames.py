"""load_gray / gray_bytes / video_frames / video_frame_at against values computed here."""

import av
import numpy as np
import pytest
import torch
import torchvision.io as tio
from PIL import Image

from datamodules.errors import BadItemError
from datamodules.frames import gray_bytes, load_gray, video_frame_at, video_frames

SIZE = 16


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def luma(rgb):
    """ITU-R 601-2 luma of an [H, W, 3] uint8 array, computed independently of torchvision."""
    return rgb.astype(np.float64) @ np.array([0.2989, 0.587, 0.114])


def check(got, expected, tolerance=0):
    assert got.dtype == torch.uint8 and got.shape == (SIZE * SIZE,)
    diff = np.abs(got.numpy().astype(int) - np.asarray(expected).reshape(-1).astype(int))
    assert diff.max() <= tolerance


def test_gray_png_at_target_size_is_its_raster(tmp_path, rng):
    image = rng.integers(0, 256, (SIZE, SIZE), dtype=np.uint8)
    tio.write_png(torch.from_numpy(image)[None], str(tmp_path / "g.png"))
    check(load_gray(tmp_path / "g.png"), image)


def test_row_major_order(tmp_path):
    # pixel (row, col) holds 16*row + col, so the raster must read 0, 1, 2, ..., 255
    image = np.arange(SIZE * SIZE, dtype=np.uint8).reshape(SIZE, SIZE)
    tio.write_png(torch.from_numpy(image)[None], str(tmp_path / "pos.png"))
    assert load_gray(tmp_path / "pos.png").tolist() == list(range(SIZE * SIZE))


def test_constant_image_of_any_size_gives_the_constant(tmp_path):
    tio.write_png(torch.full((1, 45, 30), 77, dtype=torch.uint8), str(tmp_path / "c.png"))
    check(load_gray(tmp_path / "c.png"), np.full(SIZE * SIZE, 77))


def test_rgb_png_is_luma(tmp_path, rng):
    rgb = rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
    tio.write_png(torch.from_numpy(rgb).permute(2, 0, 1).contiguous(), str(tmp_path / "rgb.png"))
    # float rounding in a different order may land a .5 tie on the other side
    check(load_gray(tmp_path / "rgb.png"), np.round(luma(rgb)), tolerance=1)


def test_rgba_png_drops_alpha(tmp_path, rng):
    rgba = rng.integers(0, 256, (SIZE, SIZE, 4), dtype=np.uint8)
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "rgba.png")
    check(load_gray(tmp_path / "rgba.png"), np.round(luma(rgba[..., :3])), tolerance=1)


def test_gray_alpha_png_takes_gray(tmp_path, rng):
    la = rng.integers(0, 256, (SIZE, SIZE, 2), dtype=np.uint8)
    Image.fromarray(la, mode="LA").save(tmp_path / "la.png")
    check(load_gray(tmp_path / "la.png"), la[..., 0])


def test_16bit_png_scales_v257_to_v(tmp_path, rng):
    values = rng.integers(0, 256, (SIZE, SIZE)).astype(np.uint16)
    Image.fromarray(values * 257).save(tmp_path / "g16.png")  # PIL writes uint16 as a 16-bit gray PNG
    assert tio.decode_image(tio.read_file(str(tmp_path / "g16.png")), tio.ImageReadMode.UNCHANGED).dtype == torch.uint16
    check(load_gray(tmp_path / "g16.png"), values)


def test_jpeg_constant_gray_and_rgb(tmp_path):
    tio.write_jpeg(torch.full((1, 40, 40), 100, dtype=torch.uint8), str(tmp_path / "g.jpg"), quality=95)
    check(load_gray(tmp_path / "g.jpg"), np.full(SIZE * SIZE, 100), tolerance=1)
    color = np.array([200, 40, 90], dtype=np.uint8)
    rgb = torch.from_numpy(np.broadcast_to(color, (40, 40, 3)).copy()).permute(2, 0, 1).contiguous()
    tio.write_jpeg(rgb, str(tmp_path / "rgb.jpg"), quality=95)
    # JPEG keeps luma (its Y is the same 601 weighting) nearly exactly; chroma loss barely moves it
    check(load_gray(tmp_path / "rgb.jpg"), np.full(SIZE * SIZE, round(float(luma(color[None])[0]))), tolerance=2)


def test_gray_bytes_float_and_size():
    check(gray_bytes(torch.full((20, 20), 0.6)), np.full(SIZE * SIZE, 153))  # float [0, 1] -> 0..255
    check(gray_bytes(torch.ones(3, 20, 20)), np.full(SIZE * SIZE, 255))  # luma weights sum to 0.9999, still 255
    assert gray_bytes(torch.zeros(8, 8, dtype=torch.uint8), size=4).shape == (16,)


def brightness(k):
    return 10 * k + 20


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    """2 s at 10 fps of 32×32 gray frames; frame k has brightness 10k + 20 (mpeg4 is in every FFmpeg)."""
    path = tmp_path_factory.mktemp("video") / "v.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width = stream.height = 32
        stream.pix_fmt = "yuv420p"
        for k in range(20):
            frame = av.VideoFrame.from_ndarray(np.full((32, 32), brightness(k), np.uint8), format="gray")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def test_video_frames_sampled_at_fps(video):
    got = video_frames(video, fps=2.0)
    assert got.dtype == torch.uint8 and got.shape == (4, SIZE * SIZE)
    for row, k in zip(got, [0, 5, 10, 15], strict=True):
        assert (row.int() - brightness(k)).abs().max() <= 6  # lossy codec + yuv420p round trip


def test_video_frames_max_frames(video):
    got = video_frames(video, fps=10.0, max_frames=3)
    assert got.shape == (3, SIZE * SIZE)
    assert [round(row.float().mean().item() / 10) for row in got] == [2, 3, 4]


def test_video_frame_at(video):
    assert (video_frame_at(video, 1.05).int() - brightness(10)).abs().max() <= 6
    assert (video_frame_at(video, 1.0).int() - brightness(10)).abs().max() <= 6  # a frame is shown from its own time
    assert (video_frame_at(video, 0.0).int() - brightness(0)).abs().max() <= 6
    assert (video_frame_at(video, 1.99).int() - brightness(19)).abs().max() <= 6  # last frame shows until 2.0 s


@pytest.mark.parametrize("time", [2.0, 5.0, -0.1])
def test_video_time_outside_raises(video, time):
    with pytest.raises(BadItemError, match=str(video)):
        video_frame_at(video, time)


def bad_file(tmp_path, kind):
    path = tmp_path / f"{kind}.bin"
    if kind == "garbage":
        path.write_bytes(bytes(range(256)) * 8)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "no_video_stream":
        with av.open(str(path), "w", format="wav") as container:
            stream = container.add_stream("pcm_s16le", rate=8000)
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16", layout="mono")
            frame.sample_rate = 8000
            container.mux(stream.encode(frame))
            container.mux(stream.encode())
    return path


@pytest.mark.parametrize("kind", ["missing", "garbage", "empty", "no_video_stream"])
@pytest.mark.parametrize("load", [load_gray, video_frames, lambda p: video_frame_at(p, 0.0)])
def test_bad_files_raise_naming_the_path(tmp_path, kind, load):
    path = bad_file(tmp_path, kind)
    with pytest.raises(BadItemError) as info:
        load(path)
    assert str(path) in str(info.value)


def test_truncated_png_raises(tmp_path, rng):
    data = tio.encode_png(torch.from_numpy(rng.integers(0, 256, (1, 64, 64), dtype=np.uint8)))
    (tmp_path / "cut.png").write_bytes(bytes(data[: len(data) // 2].tolist()))
    with pytest.raises(BadItemError, match="cut.png"):
        load_gray(tmp_path / "cut.png")
