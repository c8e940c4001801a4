import numpy as np
import pandas as pd
import pytest

from valuechain import load_dataset, views


def _wide(values, start="2023Q1"):
    index = pd.period_range(start, periods=len(values), freq="Q", name="calendar_quarter")
    return pd.DataFrame({"a": values}, index=index)


def test_annual_sums_complete_years_only():
    wide = _wide([1, 2, 3, 4, 5, 6])
    out = views.annual(wide)
    assert out.loc[2023, "a"] == 10
    assert np.isnan(out.loc[2024, "a"])


def test_trailing_four_quarters_closed_form():
    out = views.trailing_four_quarters(_wide([1, 2, 3, 4, 5, 6]))
    assert out["a"].tolist()[3:] == [10, 14, 18]
    assert out["a"].isna().sum() == 3


def test_quarterly_view_is_calendar_indexed_and_matches_rows():
    ds = load_dataset()
    wide = views.quarterly(ds, "revenue", ["nvidia"])
    # NVIDIA FY2025 Q4 (Nov 2024 - Jan 2025) sits in calendar 2024Q4.
    assert wide.loc[pd.Period("2024Q4", freq="Q"), "nvidia"] == pytest.approx(39.331)
    assert views.annual(wide).loc[2024, "nvidia"] == pytest.approx(26.044 + 30.040 + 35.082 + 39.331)


def test_points_are_sorted_by_date():
    ds = load_dataset()
    pts = views.points(ds, "revenue_run_rate", ["anthropic"])
    assert pts["period_end"].is_monotonic_increasing
    assert pts["value_usd_bn"].iloc[0] == 1.0
