"""Priors, correlated draws, tornado and Sobol indices: closed forms and the scenario's own figures."""
import numpy as np
import pytest
import yaml
from scipy import special

from valuechain.model import engine, uncertainty as U
from valuechain.model.inputs import build as build_inputs
from valuechain.report import labels
from valuechain.scenario.load import load_scenario
from valuechain.exceptions import ParameterError
from valuechain.scenario.schema import Prior


@pytest.fixture(scope="module")
def base(base_scenario, base_inputs, ds):
    return base_scenario, base_inputs, ds


def _scenario(tmp_path, uncertainty: dict):
    path = tmp_path / "variant.yaml"
    # a changed value needs a rationale of its own (valuechain.scenario.rationales)
    path.write_text(yaml.safe_dump({"extends": "base", "uncertainty": {"rationale": "A test's settings.", **uncertainty}}))
    return path


@pytest.mark.parametrize("prior,u,want", [
    (dict(dist="uniform", low=2.0, high=4.0), 0.25, 2.5),
    (dict(dist="triangular", low=0.0, mode=1.0, high=2.0), 0.5, 1.0),
    (dict(dist="lognormal", median=10.0, sigma=0.3), 0.5, 10.0),
    (dict(dist="normal", mean=1.0, sd=2.0), 0.5, 1.0),
    (dict(dist="pert", low=0.0, mode=0.5, high=1.0), 0.5, 0.5),
    (dict(dist="beta", alpha=2.0, beta=2.0), 0.5, 0.5),
])
def test_quantiles_have_their_closed_forms(prior, u, want):
    assert U.quantile(Prior(rationale="test", **prior), [u])[0] == pytest.approx(want, rel=1e-9)


def test_truncated_normal_stays_in_its_bounds_and_pert_has_its_mean():
    trunc = Prior(dist="normal", mean=0.1, sd=0.5, low=0.0, high=0.3, rationale="test")
    x = U.quantile(trunc, np.linspace(0, 1, 1001))
    assert x.min() >= 0.0 and x.max() <= 0.3
    pert = Prior(dist="pert", low=0.0, mode=0.2, high=1.0, rationale="test")
    x = U.quantile(pert, (np.arange(20000) + 0.5) / 20000)
    assert x.mean() == pytest.approx((0.0 + 4 * 0.2 + 1.0) / 6, abs=1e-3)  # PERT mean (a + 4m + b) / 6


@pytest.mark.parametrize("prior", [dict(dist="pert", low=-1.5, mode=-1.0, high=-0.3),
                                   dict(dist="beta", alpha=2.0, beta=5.0)])
def test_beta_quantiles_computed_once_per_distinct_uniform_equal_the_direct_ones(prior):
    prior = Prior(rationale="test", **prior)
    if prior.dist == "pert":
        low, width = prior.low, prior.high - prior.low
        a, b = 1 + 4 * (prior.mode - low) / width, 1 + 4 * (prior.high - prior.mode) / width
    else:
        low, width, a, b = 0.0, 1.0, prior.alpha, prior.beta
    u = np.random.default_rng(4).random((300, 3))
    u[100:200] = u[:100]  # repeated uniforms, as Saltelli's design and the Shapley draws have them
    want = low + width * special.betaincinv(a, b, np.clip(u, U.EDGE, 1 - U.EDGE))
    assert np.array_equal(U.quantile(prior, u), want)


def test_saltelli_design_is_salibs():
    from SALib.sample import sobol as sample

    for d, samples, seed in [(1, 16, 0), (4, 64, 3), (29, 512, 20261121)]:
        problem = {"num_vars": d, "names": [f"x{i}" for i in range(d)], "bounds": [[0.0, 1.0]] * d}
        want = sample.sample(problem, samples, calc_second_order=False, scramble=True, seed=seed)
        assert np.array_equal(U.saltelli_design(d, samples, seed), want)


def test_zero_width_priors_reproduce_the_deterministic_scenario(base, tmp_path):
    sc, inp, _ = base
    fixed = {key: {"dist": "normal", "mean": float(inp.values[inp.column(key)]), "sd": 0.0, "rationale": "fixed"}
             for key in sc.uncertainty.priors}
    variant = load_scenario(_scenario(tmp_path, {"draws": 100, "priors": fixed}))
    draws = U.monte_carlo(variant, build_inputs(variant, base[2]))
    deterministic = engine.headline(inp, engine.evaluate(inp, inp.theta()))
    for key, values in draws.figures.items():
        assert np.array_equal(values, np.repeat(deterministic[key], 100), equal_nan=True), key


def test_correlated_draws_have_the_requested_rank_correlation(base):
    sc, inp, _ = base
    draws = U.monte_carlo(sc, inp, n=10_000)
    keys = list(draws.plan.keys)
    for a, b, rho in sc.uncertainty.correlations:
        got = U.rank_correlation(draws.values[:, keys.index(a)], draws.values[:, keys.index(b)])
        assert abs(got - rho) < 0.05, (a, b, got)
    free = U.rank_correlation(draws.values[:, keys.index("valuation.exit_multiple")],
                              draws.values[:, keys.index("valuation.discount_rate")])
    assert abs(free) < 0.05


def test_the_same_seed_gives_the_same_draws_whatever_the_chunking(base):
    sc, inp, _ = base
    one = U.monte_carlo(sc, inp, n=2500)
    chunks = np.vstack([U.draw_chunk(one.plan, i, size) for i, size in reversed(U.chunks(2500))][::-1])
    assert np.array_equal(one.values, chunks)
    assert np.array_equal(one.values, U.monte_carlo(sc, inp, n=2500).values)
    assert np.array_equal(one.values[:1000], U.monte_carlo(sc, inp, n=1000).values)


def test_sobol_indices_of_an_additive_function_are_analytic():
    # Y = 1 X1 + 2 X2 + 3 X3, X uniform(0, 1): S_i = ST_i = a_i^2 / sum a_j^2
    priors = [(f"x{i}", Prior(dist="uniform", low=0.0, high=1.0, rationale="test")) for i in range(3)]
    a = np.array([1.0, 2.0, 3.0])
    table = U.sobol_indices(lambda x: {"y": x @ a}, priors, samples=4096, seed=3)
    want = a ** 2 / (a ** 2).sum()
    np.testing.assert_allclose(table["S1"], want, atol=0.05)
    np.testing.assert_allclose(table["ST"], want, atol=0.05)


@pytest.mark.parametrize("rho", [0.0, 0.6, -0.5])
def test_shapley_effects_of_a_correlated_linear_gaussian_model_are_analytic(rho):
    # Y = b1 X1 + b2 X2, X standard normal with correlation rho (Owen and Prieur, 2017):
    # Sh_1 = b1^2 (1 - rho^2 / 2) + rho b1 b2 + b2^2 rho^2 / 2, and Sh_1 + Sh_2 = Var Y
    b1, b2 = 1.0, 2.0
    priors = [(f"x{i}", Prior(dist="normal", mean=0.0, sd=1.0, rationale="test")) for i in (1, 2)]
    correlation = np.array([[1.0, rho], [rho, 1.0]])
    table = U.shapley_effects(lambda x: {"y": b1 * x[:, 0] + b2 * x[:, 1]}, priors, correlation,
                              permutations=400, inner=3, variance_draws=20_000, seed=7).set_index("key")
    var = b1 ** 2 + b2 ** 2 + 2 * rho * b1 * b2
    want1 = (b1 ** 2 * (1 - rho ** 2 / 2) + rho * b1 * b2 + b2 ** 2 * rho ** 2 / 2) / var
    assert table["shapley"].sum() == pytest.approx(1.0, abs=1e-12)  # the effects split the variance exactly
    assert table.loc["x1", "shapley"] == pytest.approx(want1, abs=4 * table.loc["x1", "shapley_se"] + 0.02)
    assert table.loc["x2", "shapley"] == pytest.approx(1 - want1, abs=4 * table.loc["x2", "shapley_se"] + 0.02)


def test_shapley_gives_a_correlated_passenger_a_share_and_sobol_does_not():
    # Y = X1 alone, X2 perfectly correlated with X1 (rho = 0.99): Shapley splits the variance about evenly,
    # the marginal Sobol indices (independent inputs) give X2 nothing
    priors = [(f"x{i}", Prior(dist="normal", mean=0.0, sd=1.0, rationale="test")) for i in (1, 2)]
    correlation = np.array([[1.0, 0.99], [0.99, 1.0]])
    table = U.shapley_effects(lambda x: {"y": x[:, 0]}, priors, correlation, permutations=400,
                              variance_draws=20_000, seed=1).set_index("key")
    assert table.loc["x2", "shapley"] == pytest.approx((0.99 ** 2) / 2, abs=0.08)
    sobol = U.sobol_indices(lambda x: {"y": x[:, 0]}, priors, samples=1024, seed=1).set_index("key")
    assert sobol.loc["x2", "ST"] == pytest.approx(0.0, abs=0.02)


def _root_alone(matrix):
    values, vectors = np.linalg.eigh(matrix)
    return vectors * np.sqrt(np.clip(values, 0, None))


def _shapley_reference(model, priors, correlation, permutations, inner, variance_draws, seed):
    # shapley_effects as first written: one ordering and one subset at a time
    d = len(priors)
    rng = np.random.default_rng(seed)
    root = _root_alone(correlation)
    blocks = [rng.standard_normal((variance_draws, d)) @ root.T]
    orders = [rng.permutation(d) for _ in range(permutations)]
    for order in orders:
        for j in range(1, d):
            u, b = order[:j], order[j:]
            fixed = (rng.standard_normal(d) @ root.T)[b]
            gain = correlation[np.ix_(u, b)] @ np.linalg.pinv(correlation[np.ix_(b, b)])
            cov = correlation[np.ix_(u, u)] - gain @ correlation[np.ix_(b, u)]
            z = np.empty((inner, d))
            z[:, b] = fixed
            z[:, u] = gain @ fixed + rng.standard_normal((inner, j)) @ _root_alone((cov + cov.T) / 2).T
            blocks.append(z)
    p = special.ndtr(np.vstack(blocks))
    x = np.column_stack([U.quantile(prior, p[:, k]) for k, (_, prior) in enumerate(priors)])
    out = {}
    for output, y in model(x).items():
        variance = np.var(y[:variance_draws], ddof=1)
        inner_var = np.var(y[variance_draws:].reshape(permutations, d - 1, inner), axis=2, ddof=1)
        cost = np.concatenate([np.zeros((permutations, 1)), inner_var, np.full((permutations, 1), variance)], axis=1)
        gains = np.zeros((permutations, d))
        for m, order in enumerate(orders):
            gains[m, order] = np.diff(cost[m])
        out[output] = (gains.mean(axis=0) / variance, gains.std(axis=0, ddof=1) / np.sqrt(permutations) / variance,
                       np.full(d, variance))
    return out


# d assumptions (d = 1: nothing to condition on); rho = 1.0: a singular copula, where pinv drops a direction
@pytest.mark.parametrize("d, rho", [(1, 0.7), (2, 0.7), (2, 1.0), (5, 0.7), (5, 1.0)])
def test_shapley_effects_equal_the_one_subset_at_a_time_estimate(d, rho):
    # the batched algebra must give the loop's numbers bit for bit: the same normals, blocks and roots
    priors = [("a", Prior(dist="normal", mean=1.0, sd=0.5, rationale="test")),
              ("b", Prior(dist="lognormal", median=2.0, sigma=0.4, rationale="test")),
              ("c", Prior(dist="pert", low=0.0, mode=0.3, high=1.0, rationale="test")),
              ("d", Prior(dist="uniform", low=-1.0, high=1.0, rationale="test")),
              ("e", Prior(dist="triangular", low=0.0, mode=2.0, high=3.0, rationale="test"))][:d]
    correlation = np.eye(5)
    for i, j, r in [(0, 1, rho), (2, 3, -0.4), (1, 4, 0.3 * rho), (0, 4, 0.3 * rho)]:
        correlation[i, j] = correlation[j, i] = r
    correlation = correlation[:d, :d]
    assert np.linalg.eigvalsh(correlation).min() > -1e-12

    def model(x):
        x = np.column_stack([x, np.ones((len(x), 5 - d))])  # the assumptions left out held at 1
        return {"y": x[:, 0] * x[:, 1] + x[:, 2] ** 2 - x[:, 3], "z": np.exp(x[:, 4] / 3) + x[:, 0] * x[:, 3]}

    table = U.shapley_effects(model, priors, correlation, permutations=30, inner=3, variance_draws=500, seed=11)
    want = _shapley_reference(model, priors, correlation, permutations=30, inner=3, variance_draws=500, seed=11)
    assert list(table["headline"].unique()) == ["y", "z"]
    for output, (shapley, se, variance) in want.items():
        if d == 1:  # the loop's mean of its 30 equal gains rounds (to 0.9999999999999998): the effect is exactly 1
            np.testing.assert_allclose([*shapley, *se], [1.0, 0.0], rtol=0, atol=1e-15)
            shapley, se = np.ones(1), np.zeros(1)
        rows = table[table["headline"] == output]
        assert list(rows["key"]) == [name for name, _ in priors]
        np.testing.assert_array_equal(rows["shapley"], shapley)
        np.testing.assert_array_equal(rows["shapley_se"], se)
        np.testing.assert_array_equal(rows["variance"], variance)


def test_a_single_assumption_has_the_whole_variance():
    # d = 1: no subset to condition on, the one assumption's effect is Var(Y) itself, in every ordering
    prior = Prior(dist="lognormal", median=2.0, sigma=0.4, rationale="test")
    seen = []

    def model(x):
        seen.append(len(x))
        return {"y": x[:, 0] ** 2 - 3 * x[:, 0]}

    # 30 orderings: the mean of their 30 equal gains would round, to 1.0000000000000002 of the variance
    table = U.shapley_effects(model, [("a", prior)], np.eye(1), permutations=30, variance_draws=300, seed=5)
    assert seen == [300]  # the variance draws and nothing else
    x = U.quantile(prior, special.ndtr(np.random.default_rng(5).standard_normal(300)))
    assert table.to_dict("records") == [{"headline": "y", "key": "a", "shapley": 1.0, "shapley_se": 0.0,
                                         "variance": float(np.var(x ** 2 - 3 * x, ddof=1))}]


def test_tornado_swings_equal_the_model_at_the_quantiles(base):
    sc, inp, _ = base
    p = U.plan(sc, inp)
    table = U.tornado(inp, p)
    row = table[(table["headline"] == "labs_revenue_needed_usd_bn") & (table["key"] == "valuation.discount_rate")].iloc[0]
    prior = sc.uncertainty.priors["valuation.discount_rate"]
    low, high = U.quantile(prior, [0.1, 0.9])
    v = inp.lab_valuations.sum()
    assert row["at_low"] == pytest.approx(v * (1 + low) ** inp.years_to_target / 10, rel=1e-12)
    assert row["at_high"] == pytest.approx(v * (1 + high) ** inp.years_to_target / 10, rel=1e-12)
    # a headline its prior cannot move has no swing from it
    none = table[(table["headline"] == "sequoia_required_usd_bn") & (table["key"] == "valuation.discount_rate")]
    assert none["swing"].iloc[0] == 0


@pytest.mark.parametrize("block,message", [
    ({"priors": {"valuation.discount_rat": {"dist": "uniform", "low": 0.1, "high": 0.2, "rationale": "x"}}},
     "did you mean 'valuation.discount_rate'?"),
    ({"priors": {"valuation.discount_rate": {"dist": "triangular", "low": 0.1, "mode": 0.3, "high": 0.2, "rationale": "x"}}},
     "mode 0.3 is outside low-high"),
    ({"priors": {"valuation.discount_rate": {"dist": "normal", "mean": 0.1, "rationale": "x"}}}, "needs mean, sd"),
    ({"priors": {"valuation.discount_rate": {"dist": "normal", "mean": 0.1, "sd": 0.1}}}, "rationale"),
    ({"priors": {"valuation.discount_rate": {"dist": "gamma", "mean": 0.1, "sd": 0.1, "rationale": "x"}}}, "dist"),
    ({"priors": {k: {"dist": "uniform", "low": 0.1, "high": 0.2, "rationale": "x"} for k in
                 ("valuation.discount_rate", "valuation.exit_multiple", "demand_gap.break_even.target_return")},
      "correlations": [["valuation.discount_rate", "valuation.exit_multiple", 0.9],
                       ["valuation.discount_rate", "demand_gap.break_even.target_return", 0.9],
                       ["valuation.exit_multiple", "demand_gap.break_even.target_return", -0.9]]},
     "positive semi-definite"),
    ({"priors": {"valuation.discount_rate": {"dist": "uniform", "low": 0.1, "high": 0.2, "rationale": "x"}},
      "correlations": [["valuation.discount_rate", "demand_gap.bain.capex_to_revenue", 0.5]]}, "has no prior"),
    ({"sobol_samples": 500, "priors": {}}, "power of 2"),
])
def test_bad_uncertainty_blocks_get_one_line(tmp_path, block, message):
    with pytest.raises(ParameterError) as err:
        load_scenario(_scenario(tmp_path, block))
    text = str(err.value)
    assert message in text and "variant.yaml" in text and "\n" not in text


def test_a_prior_the_model_does_not_consume_is_an_error(base, tmp_path):
    # NVIDIA's margin is filed, so an assumed margin for it is never used
    block = {"priors": {"demand_gap.regression.lags": {"dist": "uniform", "low": 2, "high": 4, "rationale": "x"}}}
    variant = load_scenario(_scenario(tmp_path, block))
    with pytest.raises(ParameterError, match="is set but the model does not consume it"):
        U.plan(variant, build_inputs(variant, base[2]))


def test_the_same_seed_gives_byte_identical_figures(base):
    from valuechain.report import uncertainty_report as report

    _, _, ds = base
    sc = load_scenario("base", {"uncertainty": {"sobol_samples": 64}})
    one, two = U.analyse(sc, ds, n=500), U.analyse(sc, ds, n=500)
    assert one.summary() == two.summary()
    assert report.chips_share_fan(one, "Source: test").png() == report.chips_share_fan(two, "Source: test").png()
    assert report.tornado_chart(one, "d_over_required", "s").png() == report.tornado_chart(two, "d_over_required", "s").png()


def test_notebook_05_sentences_come_from_the_draws(base):
    from valuechain.report import uncertainty_report as report

    sc, _, ds = base
    result = U.analyse(sc, ds, n=1000)
    text = report.probabilities(result)
    p = result.draws.probability("d_over_required", 1.0)
    assert f"{p:.2f}" in text and "1,000 draws" in text
    top = result.drivers().set_index("headline").loc["sequoia_required_usd_bn"]
    assert top["key"] == "demand_gap.sequoia.gpu_share_of_tco"  # the only prior in Sequoia's formula with a spread here
    assert "gpu\\_share\\_of\\_tco" in report.drivers(result)
    assert "depends most on **GPU share of data\\-center cost** (scenario key demand\\_gap\\.sequoia" in report.drivers(result)
    assert "$" not in report.summary(result) + text


def test_the_tornado_leaves_out_priors_that_do_not_move_the_figure(base):
    from valuechain.report import uncertainty_report as report

    sc, inp, ds = base
    result = U.analyse(load_scenario("base", {"uncertainty": {"sobol_samples": 64}}), ds, n=200)
    table = result.tornado[result.tornado["headline"] == "d_over_required"]
    swing = (table["at_low"] - table["baseline"]).abs() + (table["at_high"] - table["baseline"]).abs()
    moving = table[swing > 1e-9]
    chart = report.tornado_chart(result, "d_over_required", "s")
    labels_drawn = [t.get_text() for t in chart.fig.axes[0].get_yticklabels()]
    assert labels_drawn == [labels.assumption(k, result.names) for k in moving["key"].head(10)][::-1]
    assert "Server life (years)" in labels_drawn and "Valuation: exit multiple" not in labels_drawn
    assert f"{(swing <= 1e-9).sum()} of the {len(table)} priors do not move it" in chart.alt


def test_notebook_05_sentences_write_figures_as_the_tables_do():
    from valuechain.report import uncertainty_report as report

    assert report._format(997.2, "usd_bn") == labels.with_unit(997.2, "usd_bn") == "USD 997bn"
    assert report._format(51.84, "usd_bn") == "USD 51.8bn"
    assert report._format(0.746, "share") == "75%" and report._format(2029.0, "year") == "2029"
    assert report._format(4.26, "cents") == "4.3 cents" and report._format(1.2345, "ratio") == "1.23"
    assert report._format(float("nan"), "year") == "not within the horizon"
    assert report._format(float("nan"), "usd_bn") == "not available"
