# pgrant-lab: every target builds .venv first when it is missing or out of date.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
REPORTS ?= reports

.DEFAULT_GOAL := help
.PHONY: help venv report test system-deps bench data lab sync clean data-fio mechanisms-build data-mechanisms data-experiment data-trace

## help: list the targets
help:
	@grep -E '^## ' $(MAKEFILE_LIST) | sed -e 's/^## /  /'

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dask]'
	touch $(STAMP)

## venv: create .venv and install the project with its test and notebook tools
venv: $(STAMP)

## report: execute every notebook on the bundled data and write reports/*.html and reports/index.html
report: $(STAMP)
	$(BIN)/pgrant-lab report --out $(REPORTS)

## system-deps: check fio, cc and cc -m32 for the tests; as root with apt-get install what is missing, else name the command
system-deps:
	@tools/ensure-system-deps

## test: install what the tests need (system-deps), build .venv, run the test suite
test: system-deps $(STAMP)
	$(BIN)/python -m pytest

## bench: run every benchmark in benchmarks/ and print ratios against their baselines
bench: $(STAMP)
	@set -e; for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b; done

## data: re-measure every bundled data set in data/raw/measured-here/ on this machine (minutes)
data: $(STAMP) data-fio data-simulated data-mechanisms data-experiment data-trace

## data-simulated: regenerate the grant-store simulator's and notebook 04's simulated data sets in data/simulated/ (about 15 s)
.PHONY: data-simulated
data-simulated: $(STAMP)
	$(BIN)/python -m analysis.simulated.grants --out data/simulated
	$(BIN)/python -m analysis.simulated.shootdown --out data/simulated
	$(BIN)/python -m analysis.simulated.flush --out data/simulated

## data-experiment: re-measure the example experiment folder (fio client/server on loopback, stand-in modes; ~2 min)
data-experiment: $(STAMP)
	$(BIN)/python -m analysis.collect.loopback data/raw/measured-here/fio-experiment

## mechanisms-build: compile the C mechanism benchmarks (benchmarks/mechanisms/*.c, cc -O2) into build/mechanisms/
mechanisms-build: $(STAMP)
	$(BIN)/python -m analysis.collect.mechanisms build build/mechanisms

## data-mechanisms: re-measure memcpy, gref lookup and unmap/TLB shootdown here into data/raw/measured-here/ (about a minute)
data-mechanisms: mechanisms-build
	$(BIN)/python -m analysis.collect.mechanisms measure data/raw/measured-here --build-dir build/mechanisms

## data-trace: record the bundled block trace (fio iolog + per-I/O lat log, mixed random I/O on this disk, ~5 s) into data/raw/measured-here/trace-fio-randrw
data-trace: $(STAMP)
	$(BIN)/python -m analysis.collect.trace_record data/raw/measured-here/trace-fio-randrw

## data-fio: re-run the bundled fio sweep (4 KiB reads, psync/libaio, 1..8 jobs, 3 reps; about 3-4 minutes)
data-fio: $(STAMP)
	$(BIN)/python -m analysis.collect.sweep measure data/raw/measured-here/fio-sweep

## lab: open the notebooks in JupyterLab (the .py files open as notebooks through jupytext)
# Jupyter refuses to start as root unless told (containers and CI machines run as root).
LAB_FLAGS ?= $(if $(filter 0,$(shell id -u)),--allow-root)
lab: $(STAMP)
	$(BIN)/jupyter lab $(LAB_FLAGS) notebooks/

## sync: re-pair every notebooks/*.py with its output-free .ipynb
sync: $(STAMP)
	$(BIN)/jupytext --sync notebooks/[0-9]*.py

## clean: remove the venv, the reports and caches
clean:
	rm -rf $(VENV) $(REPORTS) build .pytest_cache .hypothesis
