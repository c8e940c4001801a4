r"""Uncertainty an analyst can act on: Monte Carlo over correlated priors, tornado swings, Shapley effects and Sobol indices.

A scenario's ``uncertainty:`` block gives a prior to each assumption that matters, named by its
dotted scenario key, and optional **rank** correlations between them. Draws are made through a
Gaussian copula: :math:`Z \sim N(0, \Sigma)` with :math:`\Sigma_{ij} = 2 \sin(\pi \rho^S_{ij} / 6)`
(the normal correlation whose Spearman correlation is :math:`\rho^S`), :math:`U = \Phi(Z)`, and
each assumption is its marginal's quantile function at :math:`U`. Assumptions without a prior keep
the scenario's value. The model core (:mod:`valuechain.model.engine`) is evaluated on all draws at once.

Draws come in fixed chunks of :data:`CHUNK`, chunk :math:`i` seeded with the :math:`i`-th child of
``numpy.random.SeedSequence(seed)``, so the same seed gives the same draws however the chunks
are spread over workers (:mod:`valuechain.batch.sweep`).

**Sensitivity.** The tornado sets one prior at a time to its 10th and 90th percentiles, the others
at the scenario's values. The Sobol indices (Saltelli's scheme, SALib) split the variance of each
headline into first-order (:math:`S_i`, the share explained by assumption :math:`i` alone) and
total-order (:math:`S_{Ti}`, with all its interactions) parts. Sobol indices assume independent
inputs, so they are computed on the marginals without the copula; a break-even year beyond the
horizon enters them as the year after the horizon (it is censored). The **Shapley effects**
(:func:`shapley_effects`) keep the copula, so they describe the same draws as the fans and the
probabilities; they name each headline's driver.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from valuechain.dataset.names import company_name
from valuechain.model import engine
from valuechain.model.inputs import Inputs, LAYER_INDEX, build as build_inputs
from valuechain.model.results import Headline, rounded
from valuechain.exceptions import ParameterError
from valuechain.scenario.schema import Prior, Scenario, closest_key, rank_correlation_matrix

CHUNK = 1000  # draws per seeded chunk; fixed, so results do not depend on the number of workers
EDGE = 1e-9  # uniforms are kept this far inside (0, 1), so unbounded quantile functions stay finite


# ----------------------------------------------------------------------------- marginals


def quantile(prior: Prior, u) -> np.ndarray:
    """The prior's quantile function at ``u`` (uniforms in (0, 1))."""
    u = np.clip(np.asarray(u, dtype=float), EDGE, 1 - EDGE)
    if prior.dist in ("normal", "lognormal"):
        centre, scale = (prior.mean, prior.sd) if prior.dist == "normal" else (np.log(prior.median), prior.sigma)
        if scale == 0:
            value = centre if prior.dist == "normal" else prior.median
            return np.full(u.shape, float(value))
        log = prior.dist == "lognormal"
        bound = (lambda x: np.log(x) if x > 0 else -np.inf) if log else float
        a = -np.inf if prior.low is None else (bound(prior.low) - centre) / scale
        b = np.inf if prior.high is None else (bound(prior.high) - centre) / scale
        lo, hi = special.ndtr(a), special.ndtr(b)
        z = special.ndtri(lo + u * (hi - lo))
        x = centre + scale * z
        return np.exp(x) if log else x
    low, high = prior.low, prior.high
    if prior.dist == "beta":
        low, high = (0.0 if low is None else low), (1.0 if high is None else high)
    width = high - low
    if width == 0:
        return np.full(u.shape, float(low))
    if prior.dist == "uniform":
        return low + u * width
    if prior.dist == "triangular":  # closed form on each side of the mode
        c = (prior.mode - low) / width
        return np.where(u < c, low + np.sqrt(u * width * (prior.mode - low)),
                        high - np.sqrt((1 - u) * width * (high - prior.mode)))
    if prior.dist == "pert":
        a = 1 + 4 * (prior.mode - low) / width
        b = 1 + 4 * (high - prior.mode) / width
        return low + width * _betaincinv(a, b, u)
    return low + width * _betaincinv(prior.alpha, prior.beta, u)


def _betaincinv(a: float, b: float, u: np.ndarray) -> np.ndarray:
    """The inverse of the regularized incomplete beta function at ``u``, computed once per distinct value.

    At about a microsecond a value it is the costliest step of the draws, and Saltelli's design and
    the Shapley draws repeat each uniform many times (:func:`sobol_indices`, :func:`shapley_effects`).
    """
    values, inverse = np.unique(u, return_inverse=True)
    return special.betaincinv(a, b, values)[inverse].reshape(u.shape)


def normal_correlation(rank: np.ndarray) -> np.ndarray:
    r"""The normal copula's correlation giving Spearman correlation ``rank``: :math:`2\sin(\pi\rho/6)`."""
    return 2 * np.sin(np.pi * np.asarray(rank) / 6)


def _root(matrix: np.ndarray) -> np.ndarray:
    """A square root :math:`A` with :math:`A A^T` = ``matrix`` (positive semi-definite allowed).

    A stack of matrices (``... x n x n``) gives the stack of their roots, each the same as alone.
    """
    values, vectors = np.linalg.eigh(matrix)
    return vectors * np.sqrt(np.clip(values, 0, None))[..., None, :]


# ----------------------------------------------------------------------------- draws


@dataclass(frozen=True)
class Plan:
    """What to draw: the priors in the core's column order, their correlation root and the seed."""

    keys: tuple[str, ...]  # keys with a prior
    priors: tuple[Prior, ...]
    columns: np.ndarray  # their columns in the core's parameter matrix
    root: np.ndarray  # copula: Z = E @ root.T
    seed: int


def plan(scenario: Scenario, inputs: Inputs) -> Plan:
    """The draw plan for ``scenario``; a prior on an assumption the model does not consume is an error."""
    unc = scenario.uncertainty
    if unc is None or not unc.priors:
        raise ParameterError(f"params/{scenario.name}.yaml: no 'uncertainty' block; add priors (see params/base.yaml)")
    consumed = set(inputs.keys)
    for key in unc.priors:
        if key not in consumed:
            raise ParameterError(
                f"params/{scenario.name}.yaml: key 'uncertainty.priors.{key}' is set but the model does not consume it "
                f"(for example, a margin where the filings give one); {closest_key(key, consumed)}")
    keys = tuple(unc.priors)
    rank = rank_correlation_matrix(keys, unc.correlations)
    return Plan(keys, tuple(unc.priors[k] for k in keys), np.array([inputs.column(k) for k in keys], dtype=int),
                _root(normal_correlation(rank)), unc.seed)


def chunks(n: int) -> list[tuple[int, int]]:
    """``(index, size)`` of the seeded chunks holding ``n`` draws."""
    return [(i, min(CHUNK, n - i * CHUNK)) for i in range(-(-n // CHUNK))]


def draw_chunk(p: Plan, index: int, size: int) -> np.ndarray:
    """Draws of the priors (size x keys) for chunk ``index``: the same for the same seed, wherever it runs."""
    seeds = np.random.SeedSequence(p.seed).spawn(index + 1)
    rng = np.random.default_rng(seeds[index])
    z = rng.standard_normal((size, len(p.keys))) @ p.root.T
    u = special.ndtr(z)
    return np.column_stack([quantile(prior, u[:, j]) for j, prior in enumerate(p.priors)])


def theta(inputs: Inputs, p: Plan, values: np.ndarray) -> np.ndarray:
    """The core's parameter matrix with the prior columns set to ``values`` (draws x keys)."""
    out = inputs.theta(len(values))
    out[:, p.columns] = values
    return out


@dataclass(frozen=True)
class Draws:
    """Monte Carlo draws of the priors and the model's headline figures on them."""

    scenario: str
    plan: Plan
    values: np.ndarray  # draws x prior keys
    outputs: engine.Outputs
    figures: dict[str, np.ndarray]  # headline -> draws
    inputs: Inputs

    def quantiles(self, levels=(5, 25, 50, 75, 95)) -> pd.DataFrame:
        """Each headline's percentiles over the draws (NaN draws, e.g. no break-even, left out)."""
        rows = {key: {f"p{q:02d}": float(np.nanpercentile(v, q)) if np.isfinite(v).any() else np.nan for q in levels}
                for key, v in self.figures.items()}
        return pd.DataFrame(rows).T

    def probability(self, key: str, above: float) -> float:
        """Share of draws in which headline ``key`` is above ``above`` (a missing value counts as not above)."""
        return float(np.mean(np.nan_to_num(self.figures[key], nan=-np.inf) > above))


def monte_carlo(scenario: Scenario, inputs: Inputs, n: int | None = None, progress=None) -> Draws:
    """``n`` draws (default: the scenario's) of the priors, and the model on each, chunk by chunk."""
    p = plan(scenario, inputs)
    n = n or scenario.uncertainty.draws
    values = []
    for index, size in chunks(n):
        values.append(draw_chunk(p, index, size))
        if progress is not None:
            progress(size)
    values = np.vstack(values)
    out = engine.evaluate(inputs, theta(inputs, p, values))
    return Draws(scenario.name, p, values, out, engine.headline(inputs, out), inputs)


def rank_correlation(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation of two samples."""
    return float(stats.spearmanr(x, y).statistic)


# ----------------------------------------------------------------------------- sensitivity


def tornado(inputs: Inputs, p: Plan, low: float = 0.10, high: float = 0.90) -> pd.DataFrame:
    """One-at-a-time swings: each prior at its ``low`` and ``high`` quantiles, the rest at the scenario's values.

    One row per prior key x headline: the headline at the low and the high quantile, the swing
    (high minus low) and the baseline.
    """
    k = len(p.keys)
    matrix = inputs.theta(2 * k + 1)
    for j, (col, prior) in enumerate(zip(p.columns, p.priors)):
        matrix[2 * j, col] = quantile(prior, [low])[0]
        matrix[2 * j + 1, col] = quantile(prior, [high])[0]
    figures = engine.headline_figures(inputs, matrix)
    rows = []
    for name, values in figures.items():
        for j, key in enumerate(p.keys):
            rows.append({"headline": name, "key": key, "at_low": values[2 * j], "at_high": values[2 * j + 1],
                         "swing": values[2 * j + 1] - values[2 * j], "baseline": values[-1]})
    out = pd.DataFrame(rows)
    out["abs_swing"] = out["swing"].abs()
    return out.sort_values(["headline", "abs_swing"], ascending=[True, False], kind="stable").reset_index(drop=True)


def sobol_indices(model, priors, samples: int = 512, seed: int = 0) -> pd.DataFrame:
    """First- and total-order Sobol indices of each output of ``model`` (SALib, on :func:`saltelli_design`).

    ``model`` maps a (rows x len(priors)) matrix of assumption values to a dict of output arrays;
    ``priors`` is a sequence of ``(name, Prior)``. Returns one row per output x assumption with
    ``S1``, ``S1_conf``, ``ST`` and ``ST_conf`` (95% bootstrap half-widths). An output that does not
    vary gets no rows.
    """
    from SALib.analyze import sobol as analyze

    names = [name for name, _ in priors]
    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    u = saltelli_design(len(names), samples, seed)
    x = np.column_stack([quantile(prior, u[:, j]) for j, (_, prior) in enumerate(priors)])
    rows = []
    for output, y in model(x).items():
        y = np.asarray(y, dtype=float)
        if not np.isfinite(y).all() or np.ptp(y) == 0:
            continue
        si = analyze.analyze(problem, y, calc_second_order=False, seed=seed)
        for j, name in enumerate(names):
            rows.append({"headline": output, "key": name, "S1": float(si["S1"][j]), "S1_conf": float(si["S1_conf"][j]),
                         "ST": float(si["ST"][j]), "ST_conf": float(si["ST_conf"][j])})
    return pd.DataFrame(rows, columns=["headline", "key", "S1", "S1_conf", "ST", "ST_conf"])


def saltelli_design(d: int, samples: int, seed: int) -> np.ndarray:
    r"""Saltelli's design on the unit cube for first- and total-order indices, laid out as SALib's sampler
    (``SALib.sample.sobol.sample`` without second order) lays it out, which :func:`sobol_indices` analyses.

    A scrambled Sobol' sequence of ``samples`` points in :math:`2d` dimensions gives the matrices
    :math:`A` (its first :math:`d` columns) and :math:`B` (the rest); each point contributes the rows
    :math:`A`, :math:`AB_1, \dots, AB_d` (:math:`A` with its :math:`i`-th column from :math:`B`) and
    :math:`B`: ``samples`` x (d + 2) rows. SALib's sampler fills the same matrix one value at a time.
    """
    base = stats.qmc.Sobol(d=2 * d, scramble=True, seed=seed).random(samples)
    a, b = base[:, :d], base[:, d:]
    design = np.repeat(a[:, None, :], d + 2, axis=1)
    column = np.arange(d)
    design[:, 1 + column, column] = b
    design[:, -1] = b
    return design.reshape(-1, d)


def _headline_model(inputs: Inputs, p: Plan):
    """The core's headline figures as a function of the priors' values (rows x keys), as the sensitivity
    analyses take them: a break-even year beyond the horizon reads as the year after it (censored)."""
    censor = {f"{lab}_break_even_year": inputs.lab_base_year + inputs.lab_horizon + 1 for lab in inputs.labs}

    def model(values):
        figures = engine.headline_figures(inputs, theta(inputs, p, values))
        return {k: np.nan_to_num(v, nan=censor.get(k, np.nan)) for k, v in figures.items()}

    return model


def model_sobol(inputs: Inputs, p: Plan, samples: int) -> pd.DataFrame:
    """Sobol indices of the core's headline figures over the scenario's priors (marginals, no copula)."""
    return sobol_indices(_headline_model(inputs, p), list(zip(p.keys, p.priors)), samples, p.seed)


def shapley_effects(model, priors, correlation: np.ndarray, permutations: int = 200, inner: int = 3,
                    variance_draws: int = 2000, seed: int = 0) -> pd.DataFrame:
    r"""Shapley effects of each output of ``model`` over correlated priors (Song, Nelson and Staum, 2016).

    With :math:`c(u) = E[\operatorname{Var}(Y \mid X_{-u})]` the variance left when only the
    assumptions in :math:`u` vary, the Shapley effect of assumption :math:`i` is

    .. math::

        Sh_i = \frac{1}{d!} \sum_{\pi} \big[c(P_i(\pi) \cup \{i\}) - c(P_i(\pi))\big],

    the mean over orderings :math:`\pi` of the variance :math:`i` adds when it joins the
    assumptions before it, :math:`P_i(\pi)`. The effects sum to :math:`\operatorname{Var}(Y)`
    whatever the dependence, and stay valid when the inputs are correlated, unlike Sobol indices.
    They are estimated on ``permutations`` random orderings; each :math:`c(u)` from one draw of the
    fixed assumptions :math:`X_{-u}` and ``inner`` draws of :math:`X_u` given them. The draws are
    made in the Gaussian copula's normal space, where :math:`Z_u \mid Z_{-u}` is normal:
    :math:`N(R_{u,-u} R_{-u,-u}^{+} z_{-u},\; R_{uu} - R_{u,-u} R_{-u,-u}^{+} R_{-u,u})`, and
    each assumption is its marginal's quantile at :math:`\Phi(Z)` (:func:`quantile`).

    ``model`` maps a (rows x len(priors)) matrix to a dict of output arrays; ``priors`` is a sequence
    of ``(name, Prior)``; ``correlation`` the copula's normal correlation matrix. Returns one row per
    output x assumption: ``shapley`` (the share of the output's variance, summing to 1 over the
    assumptions), ``shapley_se`` (its standard error over the orderings) and ``variance``. A single
    assumption's effect is 1 and its standard error 0, exactly.
    """
    names = [name for name, _ in priors]
    d = len(names)
    rng = np.random.default_rng(seed)
    root = _root(correlation)
    blocks = [rng.standard_normal((variance_draws, d)) @ root.T]
    orders = np.array([rng.permutation(d) for _ in range(permutations)]).reshape(permutations, d)
    blocks.append(_conditional_draws(correlation, root, orders, inner, rng).reshape(-1, d))
    u_all = special.ndtr(np.vstack(blocks))
    x = np.column_stack([quantile(prior, u_all[:, k]) for k, (_, prior) in enumerate(priors)])
    rows = []
    for output, y in model(x).items():
        y = np.asarray(y, dtype=float)
        variance = float(np.var(y[:variance_draws], ddof=1))
        if not np.isfinite(y).all() or variance <= 0:
            continue
        inner_var = np.var(y[variance_draws:].reshape(permutations, d - 1, inner), axis=2, ddof=1)
        cost = np.concatenate([np.zeros((permutations, 1)), inner_var, np.full((permutations, 1), variance)], axis=1)
        gains = np.zeros((permutations, d))
        np.put_along_axis(gains, orders, np.diff(cost, axis=1), axis=1)  # to each assumption its ordering's gain
        if d == 1:  # the one assumption adds the whole variance in every ordering: exactly, where the mean would round
            effect, se = np.ones(1), np.zeros(1)
        else:
            effect, se = gains.mean(axis=0) / variance, gains.std(axis=0, ddof=1) / np.sqrt(permutations) / variance
        rows += [{"headline": output, "key": name, "shapley": float(effect[k]), "shapley_se": float(se[k]),
                  "variance": variance} for k, name in enumerate(names)]
    return pd.DataFrame(rows, columns=["headline", "key", "shapley", "shapley_se", "variance"])


def _conditional_draws(correlation: np.ndarray, root: np.ndarray, orders: np.ndarray, inner: int,
                       rng: np.random.Generator) -> np.ndarray:
    r"""The normal-space draws behind each :math:`c(u)` of :func:`shapley_effects` (orderings x d-1 x inner x d).

    For ordering :math:`\pi` (a row of ``orders``) and :math:`j = 1, \dots, d-1`, :math:`u` is its first
    :math:`j` assumptions and :math:`b` the rest: one draw :math:`z = e\,A^T` of all (:math:`A` is
    ``root``) fixes :math:`z_b`, and ``inner`` draws of :math:`Z_u \mid z_b` complete it. The normals
    are taken from ``rng`` in one call, in the order of a loop over the orderings and then :math:`j`
    (:math:`d` for :math:`e`, then ``inner`` x :math:`j`); the algebra is then done :math:`j` by
    :math:`j` for all orderings at once, on the correlation matrix rearranged into each ordering, where
    :math:`u` and :math:`b` are the leading and trailing blocks. Each ordering's blocks reach LAPACK and BLAS as they
    would alone, so the draws are bit for bit those of the loop, only faster. With a single assumption
    there is no such :math:`u` (its effect is the whole variance): no draws, and none taken from ``rng``.
    """
    permutations, d = orders.shape
    if d < 2:
        return np.empty((permutations, 0, inner, d))
    sizes = [d + inner * j for j in range(1, d)]  # one ordering's normals for each j: e, then the inner draws
    per_j = np.split(rng.standard_normal((permutations, sum(sizes))), np.cumsum(sizes)[:-1], axis=1)
    whole = np.stack([normals[:, :d] for normals in per_j], axis=1)
    given = [np.ascontiguousarray(normals[:, d:]).reshape(permutations, inner, j) for j, normals in enumerate(per_j, 1)]
    # each draw times root.T as a vector, as it was drawn; then in each ordering's arrangement
    fixed = np.take_along_axis((whole[:, :, None, :] @ root.T)[:, :, 0, :], orders[:, None, :], axis=-1)
    arranged = correlation[orders[:, :, None], orders[:, None, :]]
    z = np.empty((permutations, d - 1, inner, d))
    for j in range(1, d):
        # contiguous blocks, as one ordering's were: BLAS sums a strided vector in another order
        r_uu, r_ub, r_bu, r_bb = (np.ascontiguousarray(block) for block in (
            arranged[:, :j, :j], arranged[:, :j, j:], arranged[:, j:, :j], arranged[:, j:, j:]))
        z_b = fixed[:, j - 1, j:]
        gain = r_ub @ np.linalg.pinv(r_bb)
        cov = r_uu - gain @ r_bu
        cov_root = _root((cov + cov.swapaxes(1, 2)) / 2)
        z[:, j - 1, :, j:] = z_b[:, None, :]
        z[:, j - 1, :, :j] = (gain @ z_b[:, :, None]).swapaxes(1, 2) + given[j - 1] @ cov_root.swapaxes(1, 2)
    out = np.empty_like(z)
    np.put_along_axis(out, orders[:, None, None, :], z, axis=-1)
    return out


def model_shapley(inputs: Inputs, p: Plan, permutations: int) -> pd.DataFrame:
    """Shapley effects of the core's headline figures over the scenario's priors, with their copula."""
    correlation = p.root @ p.root.T
    return shapley_effects(_headline_model(inputs, p), list(zip(p.keys, p.priors)), correlation, permutations,
                           seed=p.seed)


def drivers(shapley: pd.DataFrame) -> pd.DataFrame:
    """The assumption with the largest Shapley effect for each headline, with its effect."""
    if not len(shapley):
        return shapley
    top = shapley.loc[shapley.groupby("headline", sort=False)["shapley"].idxmax()]
    return top.reset_index(drop=True)


# ----------------------------------------------------------------------------- notebook 05's result

HEADLINE_LABELS = {  # key -> (label, unit)
    "chips_profit_share": ("Chips share of chain operating profit, last filed year", "share"),
    "chips_profit_share_{end}": ("Chips share of chain operating profit, {end}", "share"),
    "chips_cents_per_dollar": ("Cents of an end-user dollar the chips layer keeps", "cents"),
    "d_over_required": ("Net external AI revenue / required revenue R*", "ratio"),
    "sequoia_required_usd_bn": ("Required revenue, Sequoia's method", "usd_bn"),
    "capital_recovery_required_usd_bn": ("Required revenue, capital recovery", "usd_bn"),
    "labs_revenue_needed_usd_bn": ("Lab revenue the valuations need in the target year", "usd_bn"),
    "{lab}_break_even_year": ("{name} break-even year", "year"),
}


def label(key: str, inputs: Inputs, names: dict | None = None) -> tuple[str, str]:
    """Human label and unit of a headline key."""
    names = names or {}
    end = inputs.proj_years[-1]
    for pattern, (text, unit) in HEADLINE_LABELS.items():
        if "{lab}" not in pattern and pattern.format(end=end) == key:
            return text.format(end=end), unit
    lab = key.removesuffix("_break_even_year")
    return HEADLINE_LABELS["{lab}_break_even_year"][0].format(name=company_name(lab, names)), "year"


@dataclass(frozen=True)
class UncertaintyResult:
    """Everything notebook 05 shows: draws, fans, probabilities, tornado and Sobol indices."""

    scenario: Scenario
    draws: Draws
    deterministic: dict[str, float]  # each headline at the scenario's values
    tornado: pd.DataFrame
    sobol: pd.DataFrame  # on the marginals, as if the priors were independent
    names: dict  # company id -> name
    shapley: pd.DataFrame = None  # with the copula: the effects the draws have (:func:`shapley_effects`)

    @property
    def inputs(self) -> Inputs:
        return self.draws.inputs

    def fan(self, what: str) -> pd.DataFrame:
        """Percentiles 5/25/50/75/95 over the draws, by period, of ``chips_share`` (year), ``required`` (quarter)
        or ``labs`` (year: the labs' revenue and cost)."""
        out, inp = self.draws.outputs, self.inputs
        levels = (5, 25, 50, 75, 95)
        if what == "chips_share":
            chips = LAYER_INDEX["chips"]
            values = np.concatenate([out.profit_share[:, :, chips], out.proj_profit_share[:, :, chips]], axis=1)
            index = pd.Index([*inp.years, *inp.proj_years], name="year")
            return _percentiles(values, index, levels)
        if what == "required":
            return _percentiles(out.required_q, pd.PeriodIndex(inp.quarters, name="quarter"), levels)
        if what == "labs":
            index = pd.Index(range(inp.lab_base_year, inp.lab_base_year + inp.lab_horizon + 1), name="year")
            revenue = _percentiles(out.lab_revenue.sum(axis=1), index, levels).add_prefix("revenue_")
            cost = _percentiles(out.lab_cost.sum(axis=1), index, levels).add_prefix("cost_")
            return revenue.join(cost)
        raise ValueError(f"no fan named {what!r}; use chips_share, required or labs")

    def probabilities(self) -> list[tuple[str, float]]:
        """Plain-English statements with their probability over the draws."""
        inp, end = self.inputs, self.inputs.proj_years[-1]
        d = self.draws
        out = [(f"the chips layer keeps more than half of the chain's operating profit in {end}",
                d.probability(f"chips_profit_share_{end}", 0.5)),
               (f"net external AI revenue already covers the revenue required on AI capital in service "
                f"({inp.quarters[inp.gap_quarter]})", d.probability("d_over_required", 1.0))]
        for lab in inp.labs:
            years = d.figures[f"{lab}_break_even_year"]
            out.append((f"{company_name(lab, self.names)} breaks even by {end}", float(np.mean(np.nan_to_num(years, nan=np.inf) <= end))))
        return out

    def drivers(self) -> pd.DataFrame:
        """Each headline's assumption with the largest Shapley effect (the sensitivity that matches the draws)."""
        return drivers(self.shapley)

    def headlines(self):
        """Median and 90% interval of each headline over the draws, and the probabilities.

        The comparison of scenarios shows the medians of the chips share at the horizon and of D/R*,
        and the two probabilities; the other medians and every percentile are ``detail``.
        """
        q, inp = self.draws.quantiles(), self.inputs
        end, n = inp.proj_years[-1], len(self.draws.values)
        shown = {f"chips_profit_share_{end}", "d_over_required"}
        note = f"Over {n:,} draws of the scenario's priors."
        out = []
        for key in self.draws.figures:
            text, unit = label(key, inp, self.names)
            period = self._period(key)
            out.append(Headline(f"{key}_p50", f"{text}, median of the draws", unit, period, q.loc[key, "p50"],
                                note, detail=key not in shown))
            out.append(Headline(f"{key}_p05", f"{text}, 5th percentile", unit, period, q.loc[key, "p05"], detail=True))
            out.append(Headline(f"{key}_p95", f"{text}, 95th percentile", unit, period, q.loc[key, "p95"], detail=True))
        probs = self.probabilities()
        out.append(Headline("prob_chips_majority_end", f"P(chips keep over half of chain profit in {end})", "probability",
                            str(end), probs[0][1], note))
        out.append(Headline("prob_demand_covers_required", "P(D covers R* today)", "probability",
                            str(inp.quarters[inp.gap_quarter]), probs[1][1], note))
        return out

    def _period(self, key: str) -> str:
        """The year, quarter or span a headline key describes."""
        inp = self.inputs
        end = inp.proj_years[-1]
        if key == f"chips_profit_share_{end}":
            return str(end)
        if key == "d_over_required":
            return str(inp.quarters[inp.gap_quarter])
        if key.endswith("_break_even_year"):
            return f"{inp.lab_base_year}-{inp.lab_base_year + inp.lab_horizon}"
        return str(inp.years[-1])

    @property
    def sources(self) -> tuple[str, ...]:
        """The source rows (sources.csv ids) of every filed figure the draws rest on."""
        return self.inputs.source_ids

    def summary(self) -> dict:
        figures = {h.key: rounded(h.value, 4) for h in self.headlines()}
        figures.update(draws=int(len(self.draws.values)), seed=int(self.scenario.uncertainty.seed), scenario=self.scenario.name)
        return figures


def _percentiles(values: np.ndarray, index, levels) -> pd.DataFrame:
    with np.errstate(invalid="ignore"):
        data = {f"p{q:02d}": np.nanpercentile(values, q, axis=0) for q in levels}
    return pd.DataFrame(data, index=index)


def analyse(scenario: Scenario, ds, n: int | None = None, progress=None) -> UncertaintyResult:
    """Notebook 05's analyses for ``scenario``: Monte Carlo draws, tornado and Sobol indices."""
    inp = build_inputs(scenario, ds)
    draws = monte_carlo(scenario, inp, n, progress)
    deterministic = {k: float(v[0]) for k, v in engine.headline_figures(inp, inp.theta()).items()}
    return UncertaintyResult(scenario, draws, deterministic, tornado(inp, draws.plan),
                             model_sobol(inp, draws.plan, scenario.uncertainty.sobol_samples), ds.company_names,
                             model_shapley(inp, draws.plan, scenario.uncertainty.shapley_permutations))
