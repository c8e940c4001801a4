"""A fast, small version of `make calibrate`: every reported test rejects at about its nominal rate."""
import pytest

from valuechain.batch import calibrate as calibration

pytestmark = pytest.mark.notebooks  # the slow layer: 200 simulations of every reported test


@pytest.fixture(scope="module")
def sizes():
    return calibration.calibrate("base", sims=200, seed=7)


def test_every_reported_test_is_calibrated(sizes):
    assert set(sizes) == set(calibration.TESTS)


@pytest.mark.parametrize("name", list(calibration.TESTS))
def test_size_is_near_nominal(sizes, name):
    # 200 draws: the binomial s.e. at 0.05 is 0.015, so 0.12 is more than four s.e. above nominal
    assert sizes[name] <= 0.12, f"{name}: size {sizes[name]:.3f}"
