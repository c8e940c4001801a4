# valuechain: every target bootstraps a local virtual environment (.venv) with pip from
# requirements.lock, using the machine's python. Nothing is registered outside .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# JupyterLab refuses to start as root unless told to; many containers and these machines run as root.
LAB_FLAGS := $(if $(filter 0,$(shell id -u)),--allow-root)

.DEFAULT_GOAL := help
.PHONY: help test report lab bench calibrate docs clean

help: ## List the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("valuechain needs Python 3.11+") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

test: $(STAMP) ## Run the test suite
	$(BIN)/python -m pytest

report: $(STAMP) ## Run the main job on the bundled data and default scenarios (writes outputs/)
	$(BIN)/valuechain report

lab: $(STAMP) ## Open JupyterLab on the notebooks with the project's environment as kernel
	$(BIN)/jupyter lab --notebook-dir=notebooks $(LAB_FLAGS)

bench: $(STAMP) ## Run the benchmarks (figures printed as ratios to a baseline measured in the same run)
	$(BIN)/python benchmarks/bench_demand_gap.py
	$(BIN)/python benchmarks/bench_batch.py
	$(BIN)/python benchmarks/bench_uncertainty.py
	$(BIN)/python benchmarks/bench_calibrate.py

calibrate: $(STAMP) ## Measure size, power, coverage and calibration on synthetic panels with the real disclosure pattern (ARGS=--write records them)
	$(BIN)/python -m valuechain.batch.calibrate --sims 1000 --panel-sims 500 $(ARGS)

docs: $(STAMP) ## Regenerate the reference pages in docs/ from the code (CLI help, scenario schema, data coverage)
	$(BIN)/python docs/generate.py

clean: ## Remove .venv and everything generated under outputs/
	rm -rf $(VENV)
	find outputs -mindepth 1 ! -name .gitkeep ! -name README.md -exec rm -rf {} +
