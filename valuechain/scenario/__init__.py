"""Scenarios: the schema of a scenario file, finding and loading it (``extends``, overrides) with
one-line messages, and the variants written by ``--set``. Imports the root modules and ``dataset``.

``Scenario``, ``load_scenario`` and ``list_scenarios`` are imported on first use, so a command that
only lists scenarios does not load pydantic.
"""
__all__ = ["Scenario", "list_scenarios", "load_scenario"]


def __getattr__(name):
    if name == "Scenario":
        from valuechain.scenario.schema import Scenario

        return Scenario
    if name == "load_scenario":
        from valuechain.scenario.load import load_scenario

        return load_scenario
    if name == "list_scenarios":
        from valuechain.scenario.names import list_scenarios

        return list_scenarios
    raise AttributeError(f"module 'valuechain.scenario' has no attribute {name!r}")
