"""The data layer: the bundled dataset, its validation rules, fiscal calendars, views and yearly
values, the spenders' capex, the AI-revenue disclosures, coverage and the SEC refresh.

Imports only the root modules (paths, exceptions, layers, files). ``Dataset`` and
``load_dataset`` are imported on first use, so a module that needs only the fiscal calendar
does not load pandera.
"""
__all__ = ["Dataset", "load_dataset"]


def __getattr__(name):
    if name in __all__:
        from valuechain.dataset import load

        return getattr(load, name)
    raise AttributeError(f"module 'valuechain.dataset' has no attribute {name!r}")
