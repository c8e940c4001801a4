"""Publishing what the notebooks left under ``outputs/``: reading it as plain data, the site, the
comparison across scenarios, and the exports (charts, workbook, deck). Reads ``outputs/`` as data:
imports neither ``model``, ``scenario`` nor ``batch``."""
