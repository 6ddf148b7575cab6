"""Occlusion on a model whose output is a known function of one image region."""
from __future__ import annotations

import numpy as np
import pytest

import viz_core as vc

from . import nets


def test_occlusion_on_a_known_region_function() -> None:
    m = nets.region_model()
    ones = np.ones((32, 32, 3), dtype=np.float32)  # normalised value 1 everywhere (mean 0, std 1)
    result = vc.occlusion(m, ones, vc.class_logit(0), patch=8, stride=4, fill="black")
    starts = [0, 4, 8, 12, 16, 20, 24]
    assert result.score.shape == (7, 7)
    np.testing.assert_array_equal(result.centers_y, np.array(starts) + 3.5)
    for i, y in enumerate(starts):
        for j, x in enumerate(starts):
            hidden = max(0, 8 - y) * max(0, 8 - x)  # pixels of the patch inside the 8x8 region
            assert result.score[i, j] == pytest.approx(10 * (64 - hidden) / 64, abs=1e-5)
    assert result.base_score == pytest.approx(10.0)
    # logit 0 falls below the constant logit 5 of class 1 once more than half the region is hidden
    expected_winner = np.array([[1 if max(0, 8 - y) * max(0, 8 - x) > 32 else 0 for x in starts] for y in starts])
    np.testing.assert_array_equal(result.winner, expected_winner)
    assert result.class_names == {0: "region", 1: "constant"}
    np.testing.assert_allclose(result.drop, 10.0 - result.score)


def test_class_probability_target_and_grid_reaches_the_edge() -> None:
    m = nets.region_model()
    result = vc.occlusion(m, np.ones((32, 32, 3), dtype=np.float32), vc.class_prob(0), patch=10, stride=7, fill="grey")
    np.testing.assert_array_equal(result.centers_x, np.array([0, 7, 14, 21, 22]) + 4.5)  # 22 = 32 - 10
    assert "probability" in result.target
    assert 0 <= result.score.min() and result.score.max() <= 1
    assert result.base_score == pytest.approx(1 / (1 + np.exp(-5.0)))
    as_int = vc.occlusion(m, np.ones((32, 32, 3), dtype=np.float32), 0, patch=10, stride=7, fill="grey")
    assert "logit" in as_int.target and as_int.base_score == pytest.approx(10.0)  # an int is a logit, as everywhere


def test_fills(random_cnn: vc.LoadedModel) -> None:
    image = vc.sample_image("chelsea (cat)")
    maps = {fill: vc.occlusion(random_cnn, image, 3, patch=32, stride=32, fill=fill).score for fill in vc.FILLS}
    assert all(grid.shape == (2, 2) for grid in maps.values())
    assert not np.allclose(maps["grey"], maps["blur"])


def test_progress_and_batches_do_not_change_the_result(random_cnn: vc.LoadedModel) -> None:
    image = vc.sample_image("chelsea (cat)")
    seen: list[float] = []
    one = vc.occlusion(random_cnn, image, 3, patch=16, stride=16, batch_size=5, on_step=lambda info: seen.append(info.fraction))
    other = vc.occlusion(random_cnn, image, 3, patch=16, stride=16, batch_size=16)
    np.testing.assert_allclose(one.score, other.score, rtol=1e-5, atol=1e-7)
    assert seen[-1] == 1.0 and len(seen) == 4  # 16 positions in batches of 5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"patch": 40}, "larger than the 32×32 image"),
        ({"patch": 8, "stride": 9}, "stride"),
        ({"patch": 0}, "patch size"),
        ({"fill": "pink"}, "Unknown fill"),
    ],
)
def test_bad_settings_give_clear_messages(kwargs: dict, message: str) -> None:
    with pytest.raises(vc.ConvlensError, match=message):
        vc.occlusion(nets.region_model(), np.ones((32, 32, 3), dtype=np.float32), 0, **kwargs)
