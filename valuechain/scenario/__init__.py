"""Scenarios: the schema of a scenario file, loading it (``extends``, overrides) with one-line
messages, and the variants written by ``--set``. Imports the root modules and ``dataset``."""
from valuechain.scenario.load import list_scenarios, load_scenario
from valuechain.scenario.schema import Scenario

__all__ = ["Scenario", "list_scenarios", "load_scenario"]
