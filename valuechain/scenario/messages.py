"""One-line messages for a scenario that does not validate: a pydantic ``ValidationError`` or a
company or metric the dataset lacks becomes a :class:`ParameterError` naming the file, the key
path and the fix, with every problem of the file in ``.problems``.
"""
from __future__ import annotations

import difflib
import re
from pathlib import Path

from pydantic import BaseModel, ValidationError

from valuechain.exceptions import ParameterError
from valuechain.scenario.schema import Scenario


def parameter_error(path: Path, exc: ValidationError) -> ParameterError:
    """One ParameterError holding every problem of ``exc``, one line per key; its message is the first."""
    problems, seen = [], set()
    for err in exc.errors():
        key, problem = _describe(path, err)
        if key not in seen:  # pydantic reports each branch of a union; one line per key is enough
            seen.add(key)
            problems.append(problem)
    more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    return ParameterError(problems[0] + more, problems)


_UNION_BRANCHES = re.compile(r"^(function-|union\[|tagged-union\[|constrained-|json-or-python\[)|^(float|int|str|bool|none|"
                             r"dict\[.*\]|tuple\[.*\]|list\[.*\]|literal\[.*\]|nullable\[.*\])$")
_RANGE_ERRORS = ("greater_than", "greater_than_equal", "less_than", "less_than_equal", "finite_number")
_UNITS = (("_usd_bn", "USD billions"), ("_years", "years"), ("year", "a calendar year"), ("share", "a share, 0-1"),
          ("pass_through", "a share, 0-1"), ("margin", "a fraction of revenue, 0.25 = 25%"),
          ("growth", "a yearly rate, 0.2 = +20%"), ("return", "a yearly rate, 0.1 = 10%"),
          ("rate", "a yearly rate, 0.15 = 15%"), ("ratio", "a fraction, 0.25 = 25%"))


def _describe(path: Path, err: dict) -> tuple[str, str]:
    """Key path and one-line description of one pydantic error."""
    loc = [str(part) for part in err["loc"] if not _UNION_BRANCHES.match(str(part))]
    key = ".".join(loc) or "(top level)"
    if err["type"] == "extra_forbidden":
        parent_model = _model_at(loc[:-1])
        fields = list(parent_model.model_fields) if parent_model else []
        close = difflib.get_close_matches(loc[-1], fields, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"valid keys: {', '.join(fields)}"
        return key, f"{path}: unknown key {key!r}; {hint}"
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] in _RANGE_ERRORS:
        unit = next((text for suffix, text in _UNITS if suffix in key.rsplit(".", 1)[-1]), None)
        message += f" ({unit})" if unit else ""
    value = err.get("input")
    got = "" if isinstance(value, (dict, list, tuple)) else f" (got {str(value)[:60]!r})"
    if not loc:
        return key, f"{path}: {message}"
    return key, f"{path}: key {key!r}: {message}{got}"


def _model_at(loc: list[str]):
    """The record type (pydantic model) at key path ``loc`` of a scenario; None past a plain value."""
    model = Scenario
    for part in loc:
        field = model.model_fields.get(part)
        if field is None:
            # a dict entry (layer or company name): step into the dict's value model
            continue
        annotation = field.annotation
        args = getattr(annotation, "__args__", ())
        candidates = [a for a in (annotation, *args) if isinstance(a, type) and issubclass(a, BaseModel)]
        if not candidates:
            return None
        model = candidates[-1]
    return model


def check_references(path: Path, scenario: Scenario, company_ids: set[str], metric_names: set[str]) -> None:
    """Refuse a scenario that names a company not in ``company_ids`` or a metric not in ``metric_names``:
    one :class:`ParameterError` holding every such problem, one line each; its message is the first."""
    problems: list[str] = []
    for layer, spec in scenario.layers.items():
        for i, company in enumerate(spec.companies):
            if company not in company_ids:
                close = difflib.get_close_matches(company, sorted(company_ids), n=1)
                hint = f"did you mean '{close[0]}'?" if close else "use an id from companies.csv"
                problems.append(f"{path}: key 'layers.{layer}.companies[{i}]': unknown company '{company}'; {hint}")
    dg = scenario.demand_gap
    named = [(f"regression.{field}[{i}]", company) for field in ("capex_companies", "panel_companies")
             for i, company in enumerate(getattr(dg.regression, field))]
    named += [("regression.long_series_company", dg.regression.long_series_company)]
    named += [(f"capital.{field}[{i}]", company) for field in ("spenders", "shown_separately")
              for i, company in enumerate(getattr(dg.capital, field))]
    for key, company in named:
        if company not in company_ids:
            problems.append(f"{path}: key 'demand_gap.{key}': unknown company '{company}'; use an id from companies.csv")
    for i, inv in enumerate(scenario.lab_economics.investments):
        for field in ("investor", "lab"):
            if getattr(inv, field) not in company_ids:
                problems.append(f"{path}: key 'lab_economics.investments[{i}].{field}': unknown company "
                                     f"'{getattr(inv, field)}'; use an id from companies.csv")
    for lab in scenario.lab_economics.paths:
        if lab not in company_ids:
            problems.append(f"{path}: key 'lab_economics.paths.{lab}': unknown company '{lab}'; use an id from companies.csv")
    for company, attr in scenario.attribution.items():
        if company not in company_ids:
            problems.append(f"{path}: key 'attribution.{company}': unknown company '{company}'; use an id from companies.csv")
        named = [("revenue_metric", attr.revenue_metric), ("margin_denominator", attr.margin_denominator)]
        named += [(f"margin_metrics[{i}]", m) for i, m in enumerate(attr.margin_metrics)]
        for field, metric in named:
            if metric is not None and metric not in metric_names:
                problems.append(f"{path}: key 'attribution.{company}.{field}': unknown metric '{metric}'; use a metric from metrics.yaml")
    if problems:
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ParameterError(problems[0] + more, problems)
