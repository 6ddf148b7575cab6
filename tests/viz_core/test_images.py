"""Image reading: every common mode becomes upright RGB; bad files give a clear ImageError."""
from __future__ import annotations

import io
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import viz_core as vc
from viz_core.images import Preprocessing, image_digest, load_image


def _encode(image: Image.Image, fmt: str = "PNG", **kwargs: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def test_samples_are_rgb_photos() -> None:
    assert len(vc.sample_names()) >= 6
    for name in vc.sample_names():
        picture = vc.sample_image(name)
        assert picture.mode == "RGB" and min(picture.size) >= 128
    with pytest.raises(vc.ImageError, match="no sample"):
        vc.sample_image("nope")


@pytest.mark.parametrize(
    "image",
    [
        Image.new("L", (20, 10), 128),
        Image.new("RGBA", (20, 10), (255, 0, 0, 0)),
        Image.new("P", (20, 10)),
        Image.new("CMYK", (20, 10), (0, 255, 0, 0)),
        Image.fromarray(np.full((10, 20), 65535, dtype=np.uint16)),
        Image.new("1", (20, 10), 1),
    ],
    ids=["gray", "rgba", "palette", "cmyk", "16bit", "bilevel"],
)
def test_modes_become_rgb(image: Image.Image) -> None:
    fmt = "TIFF" if image.mode == "CMYK" else "PNG"
    loaded = load_image(_encode(image, fmt))
    assert loaded.mode == "RGB" and loaded.size == (20, 10)


def test_transparent_pixels_become_white_and_16bit_is_rescaled() -> None:
    assert load_image(_encode(Image.new("RGBA", (4, 4), (255, 0, 0, 0)))).getpixel((0, 0)) == (255, 255, 255)
    assert load_image(Image.fromarray(np.full((4, 4), 65535, dtype=np.uint16))).getpixel((0, 0)) == (255, 255, 255)


def test_exif_orientation_is_applied() -> None:
    wide = Image.new("RGB", (40, 20), (10, 20, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise when displayed
    loaded = load_image(_encode(wide, "JPEG", exif=exif.tobytes()))
    assert loaded.size == (20, 40)


def test_arrays_paths_and_float_arrays(tmp_path: Path) -> None:
    array = np.random.default_rng(0).random((12, 8, 3))
    assert load_image(array).size == (8, 12)
    assert load_image(np.moveaxis(array, -1, 0)).size == (8, 12)  # CHW
    path = tmp_path / "a.png"
    Image.fromarray((array * 255).astype(np.uint8)).save(path)
    assert load_image(path).size == (8, 12)
    with pytest.raises(vc.ImageError, match="not an image"):
        load_image(np.zeros((2, 3, 4, 5)))
    with pytest.raises(vc.ImageError, match="NaN"):
        load_image(np.full((4, 4), np.nan))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"hello, this is text", "not an image"),
        (_encode(Image.new("RGB", (64, 64)), "PNG")[:60], "damaged|not an image"),
    ],
    ids=["empty", "text", "truncated"],
)
def test_bad_files(data: bytes, message: str) -> None:
    with pytest.raises(vc.ImageError, match=message):
        load_image(data)


def test_decompression_bomb_is_refused_before_decoding() -> None:
    # A valid PNG header that declares 30000 x 30000 pixels, with a tiny compressed body.
    bomb = Image.new("L", (1, 1))
    data = bytearray(_encode(bomb))
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = (30000).to_bytes(4, "big") * 2
    crc = zlib.crc32(bytes(data[ihdr : ihdr + 17])).to_bytes(4, "big")
    data[ihdr + 17 : ihdr + 21] = crc
    with pytest.raises(vc.ImageError, match="MP|bomb"):
        load_image(bytes(data))


def test_oversized_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(vc.ImageError, match="limit"):
        load_image(b"x" * 2048, max_bytes=1024)
    with pytest.raises(vc.ImageError, match="No image file"):
        load_image(tmp_path / "missing.png")


def test_preprocessing_matches_timm_and_round_trips(lite0: vc.LoadedModel) -> None:
    import timm.data

    picture = vc.sample_image("chelsea (cat)")
    ours = lite0.preprocess(picture)
    transform = timm.data.create_transform(**timm.data.resolve_model_data_config(lite0.model), is_training=False)
    theirs = transform(picture).unsqueeze(0)
    assert ours.shape == theirs.shape == (1, 3, 224, 224)
    assert torch.allclose(ours, theirs, atol=1e-5)  # same resize, crop and normalisation as timm
    back = lite0.deprocess(ours)
    assert back.dtype == np.uint8 and np.abs(back.astype(int) - np.asarray(lite0.image01(picture) * 255).round()).max() <= 1


def test_single_channel_models_get_gray_input() -> None:
    prep = Preprocessing(input_size=(1, 8, 8), mean=(0.5,), std=(0.5,), crop_pct=1.0)
    tensor = prep(Image.new("RGB", (16, 16), (255, 255, 255)))
    assert tensor.shape == (1, 1, 8, 8) and float(tensor.max()) == pytest.approx(1.0)
    assert prep.deprocess(tensor).shape == (8, 8, 3)


def test_digest_depends_on_every_pixel() -> None:
    array = np.zeros((600, 600, 3), dtype=np.uint8)
    first = image_digest(array)
    array[317, 411, 1] = 1
    assert image_digest(array) != first


@pytest.mark.parametrize("sigma", [0.5, 3.0])  # the shifted-sum branch and the convolution branch
def test_gaussian_blur_matches_scipy_with_mirrored_borders(sigma: float) -> None:
    from scipy.ndimage import gaussian_filter

    from viz_core.images import gaussian_blur

    image = torch.rand(2, 3, 40, 31, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    expected = gaussian_filter(image.numpy(), sigma=(0, 0, sigma, sigma), mode="mirror", truncate=3.0)
    np.testing.assert_allclose(gaussian_blur(image, sigma).numpy(), expected, atol=1e-10)


def test_gaussian_blur_keeps_constants_and_passes_gradients() -> None:
    from viz_core.images import gaussian_blur

    image = torch.full((1, 3, 16, 16), 0.3, requires_grad=True)
    blurred = gaussian_blur(image, 0.8)
    assert torch.allclose(blurred, torch.full_like(blurred, 0.3))
    (grad,) = torch.autograd.grad(blurred.sum(), [image])
    assert torch.allclose(grad.sum(), torch.tensor(float(image.numel())))  # a normalised kernel moves mass, never makes it
