"""Paths, and nothing else."""
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
DATA_DIR = PACKAGE_DIR / "dataset" / "data"
CALIBRATION_FILE = PACKAGE_DIR / "stats" / "calibration.json"  # the primary test's measured power (make calibrate)
PARAMS_DIR = REPO_ROOT / "params"
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
OUTPUTS_DIR = REPO_ROOT / "outputs"
