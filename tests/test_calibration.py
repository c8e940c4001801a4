"""A fast, small version of `make calibrate`: every reported test rejects at about its nominal rate."""
import pytest

from valuechain.batch import calibrate as calibration
from valuechain.stats import size

pytestmark = pytest.mark.notebooks  # the slow layer: 200 simulations of every reported test

SIMS = 200


@pytest.fixture(scope="module")
def sizes():
    return calibration.calibrate("base", sims=SIMS, seed=7)


@pytest.mark.parametrize("name", list(size.TESTS))
def test_size_is_near_nominal(sizes, name):
    # 200 draws: the binomial s.e. at 0.05 is 0.015, so 0.12 is more than four s.e. above nominal; and a
    # test that never rejects is broken, not conservative: at a true size of 0.04, no rejection in 200
    # happens with probability 0.0003.
    assert 1 / SIMS <= sizes[name] <= 0.12, f"{name}: size {sizes[name]:.3f}"
    assert sizes[name] * SIMS == pytest.approx(round(sizes[name] * SIMS))  # a share of the 200 samples


def test_each_test_draws_from_its_own_seed(sizes):
    """A test's size does not depend on which other tests run: each gets its own child of the seed."""
    alone = calibration.calibrate("base", sims=SIMS, seed=7, tests=["elasticity", "sup_wald_break"])
    assert alone == {"elasticity": sizes["elasticity"], "sup_wald_break": sizes["sup_wald_break"]}
    assert set(sizes) == set(size.TESTS)
