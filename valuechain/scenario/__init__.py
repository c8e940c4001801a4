"""Scenarios: the schema of a scenario file, loading it (``extends``, overrides) with one-line
messages, and the variants written by ``--set``. Imports the root modules and ``dataset``."""
