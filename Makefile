# Set-up and checks. `make demo` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

.PHONY: demo test fuzz lint format bench bench-100m clean install dev java

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/activate pyproject.toml
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# pyspark for the Spark engine's tests, which run Spark in local mode on a Java
# runtime (Debian's, installed when missing and run as root).
$(VENV)/.installed-spark: $(VENV)/.installed-dev pyproject.toml
	$(PY) -m pip install --quiet -e '.[dev,spark]'
	touch $@

java:
	@command -v java >/dev/null || [ "$$(id -u)" != 0 ] || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq openjdk-17-jre-headless >/dev/null)

install: $(VENV)/.installed
dev: $(VENV)/.installed-dev

demo: $(VENV)/.installed
	$(BIN)/clv compute sample_data/shop.csv --format table --limit 20
	$(BIN)/clv segment sample_data/shop.csv --summary --format table

test: $(VENV)/.installed-spark java
	$(BIN)/ruff check clvcli tests sample_data
	$(PY) -m pytest -q

# The property tests of tests/fuzz with a hundred times the examples of `make test`
# (`CLV_FUZZ_SCALE=10 make fuzz` for a tenth of that) and no deadline.
fuzz: $(VENV)/.installed-dev
	CLV_FUZZ=long $(PY) -m pytest -q tests/fuzz --hypothesis-show-statistics

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check clvcli tests sample_data
	$(BIN)/ruff format --check clvcli tests sample_data

format: $(VENV)/.installed-dev
	$(BIN)/ruff format clvcli tests sample_data
	$(BIN)/ruff check --fix clvcli tests sample_data

# The package's bytecode is compiled first, as a wheel install does: an editable
# install under PYTHONDONTWRITEBYTECODE would compile clvcli on every run (70 ms).
# 1M and 10M simulated logs, the 10M one with text ids and with integer ids.
bench: $(VENV)/.installed-dev
	$(PY) -m compileall -q clvcli
	$(PY) bench/generate.py 1000000 bench/data
	$(PY) bench/generate.py 10000000 bench/data
	$(PY) bench/generate.py 10000000 bench/data --ids int
	$(PY) bench/run.py bench/data/tx_1000000.parquet bench/data/tx_1000000.csv \
		bench/data/tx_10000000.parquet bench/data/tx_10000000_int.parquet \
		bench/data/tx_10000000.csv

# 100 million transactions in ten Parquet parts (about 2 GB of disk), one try each.
bench-100m: $(VENV)/.installed-dev
	$(PY) -m compileall -q clvcli
	$(PY) bench/generate.py 100000000 bench/data --parts 10
	BENCH_RUNS=1 $(PY) bench/run.py bench/data/tx_100000000_parts

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
