"""Collections: built-in demos, folders and zip uploads (unsafe, bomb-like and corrupt members)."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import viz_core as vc
from viz_core.dataset import sources


def png(colour: tuple[int, int, int] = (200, 30, 30), size: int = 12) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def make_zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return buffer.getvalue()


def test_digits_are_the_sklearn_digits_with_labels() -> None:
    from sklearn.datasets import load_digits

    c = vc.collection("digits")
    data = load_digits()
    assert len(c) == 1797 and c.label_names == tuple("0123456789")
    np.testing.assert_array_equal(c.labels, data.target)
    picture = np.asarray(c.load(5))[..., 0]
    np.testing.assert_allclose(picture, np.round(data.images[5] * 255 / 16), atol=0)
    assert vc.collection("digits").digest == c.digest


def test_photos_are_hundreds_of_labelled_crops_with_a_stable_digest() -> None:
    c = vc.collection("photos")
    assert 200 <= len(c) <= 1000 and len(c.label_names) >= 8
    assert np.bincount(c.labels).min() > 0
    image = c.load(0)
    assert image.mode == "RGB" and image.size[0] == image.size[1]
    assert vc.collection("photos").digest == c.digest


def test_folder_with_class_subfolders_labels_by_folder_and_skips_non_images(tmp_path: Path) -> None:
    for label, colour in (("cat", (255, 0, 0)), ("dog", (0, 0, 255))):
        (tmp_path / label).mkdir()
        for i in range(3):
            (tmp_path / label / f"{i}.png").write_bytes(png(colour))
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    c = vc.collection(str(tmp_path))
    assert len(c) == 6 and c.label_names == ("cat", "dog")
    assert [c.label_names[i] for i in c.labels] == ["cat"] * 3 + ["dog"] * 3
    assert len(c.skipped) == 1 and "notes.txt" in c.skipped[0]
    assert np.asarray(c.load(4))[0, 0].tolist() == [0, 0, 255]
    (tmp_path / "dog" / "3.png").write_bytes(png())
    assert vc.collection(str(tmp_path)).digest != c.digest


def test_missing_folder_and_empty_folder_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(vc.DatasetError, match="nor a folder"):
        vc.collection(str(tmp_path / "nope"))
    with pytest.raises(vc.DatasetError, match="no folder"):
        sources.folder(tmp_path / "nope")
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(vc.DatasetError, match="No images"):
        vc.collection(str(tmp_path))


def test_zip_keeps_good_images_and_refuses_unsafe_bomb_and_corrupt_members() -> None:
    members = {
        "good/a.png": png((10, 200, 10)),
        "good/b.png": png((10, 10, 200)),
        "other/c.png": png(),
        "../escape.png": png(),
        "/etc/absolute.png": png(),
        "readme.txt": b"hello",
        "broken/d.png": b"\x89PNG\r\n\x1a\n" + b"garbage" * 20,
        "bomb/e.png": b"\0" * (30 * 2**20),  # 30 MB of zeros: compresses ~1000:1
        "__MACOSX/good/._a.png": b"resource fork",
    }
    data = make_zip(members)
    c = vc.collection(data)
    assert sorted(c.names) == ["good/a.png", "good/b.png", "other/c.png"]
    assert c.label_names == ("good", "other")
    reasons = "\n".join(c.skipped)
    assert "../escape.png: '..' in the path refused" in reasons
    assert "/etc/absolute.png: absolute path refused" in reasons
    assert "readme.txt: not an image file" in reasons
    assert "broken/d.png: not a readable image" in reasons
    assert "bomb/e.png" in reasons and ("zip bomb" in reasons or "larger than" in reasons)
    assert len(c.skipped) == 5
    assert np.asarray(c.load(c.names.index("good/a.png")))[0, 0].tolist() == [10, 200, 10]


def test_zip_bomb_below_the_size_limit_is_caught_by_its_compression_ratio() -> None:
    data = make_zip({"a.png": png(), "bomb.png": b"\0" * (5 * 2**20)})
    c = sources.zip_archive(data)
    assert c.names == ("a.png",) and "zip bomb" in c.skipped[0]


def test_zip_member_with_a_bad_crc_is_skipped_as_corrupt() -> None:
    blob = png((1, 2, 3), size=40)
    data = bytearray(make_zip({"a.png": png(), "b.png": blob}, compression=zipfile.ZIP_STORED))
    start = data.find(blob)
    data[start + len(blob) // 2] ^= 0xFF  # flip a byte inside the stored member: CRC mismatch
    c = sources.zip_archive(bytes(data))
    assert c.names == ("a.png",)
    assert c.skipped and c.skipped[0].startswith("b.png: corrupt member")


def test_zip_limits_on_count_and_total_size() -> None:
    data = make_zip({f"{i}.png": png() for i in range(5)})
    assert len(sources.zip_archive(data, max_images=3)) == 3
    total = len(png()) * 2 + 1
    c = sources.zip_archive(data, max_total_bytes=total)
    assert len(c) == 2 and all("MB of images" in s for s in c.skipped)


def test_not_a_zip_and_a_zip_without_images_are_clear_errors() -> None:
    with pytest.raises(vc.DatasetError, match="not a readable zip"):
        vc.collection(b"definitely not a zip")
    with pytest.raises(vc.DatasetError, match="no readable images"):
        vc.collection(make_zip({"../x.png": png(), "y.txt": b"y"}))


def test_unknown_source_is_a_clear_error() -> None:
    with pytest.raises(vc.DatasetError, match="neither a built-in"):
        vc.collection("imagenet-please")


def test_sample_and_subset_keep_labels_aligned() -> None:
    c = vc.collection("digits")
    small, chosen = c.sample(50, seed=3)
    again, chosen_again = c.sample(50, seed=3)
    np.testing.assert_array_equal(chosen, chosen_again)
    assert len(small) == 50 and small.digest == again.digest != c.digest
    np.testing.assert_array_equal(small.labels, c.labels[chosen])
    assert np.array_equal(np.asarray(small.load(7)), np.asarray(c.load(int(chosen[7]))))


def test_folder_within_resolves_links_and_dots_before_checking(tmp_path: Path) -> None:
    allowed, outside = tmp_path / "data", tmp_path / "secret"
    allowed.mkdir()
    outside.mkdir()
    (allowed / "door").symlink_to(outside, target_is_directory=True)
    assert sources.folder_within(allowed / "sub" / "..", [allowed]) == allowed.resolve()
    for escape in (outside, allowed / ".." / "secret", allowed / "door"):
        with pytest.raises(vc.DatasetError, match="outside the folders"):
            sources.folder_within(escape, [allowed])
    with pytest.raises(vc.DatasetError, match="No folder"):
        sources.folder_within("  ", [allowed])


def test_folder_skips_links_to_files_outside_it(tmp_path: Path) -> None:
    root, outside = tmp_path / "images", tmp_path / "elsewhere"
    root.mkdir()
    outside.mkdir()
    Image.new("RGB", (8, 8)).save(root / "inside.png")
    Image.new("RGB", (8, 8)).save(outside / "private.png")
    (root / "leak.png").symlink_to(outside / "private.png")
    c = sources.folder(root)
    assert len(c) == 1 and c.skipped == ("leak.png: a link to a file outside the folder",)
