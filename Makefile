# Two commands for a newcomer:  make demo  |  make test
# Each creates .venv and installs the package with what it needs.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO := demo-output

.PHONY: demo test venv bench lint clean

$(VENV)/.installed: setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

venv: $(VENV)/.installed

demo: venv
	rm -rf $(DEMO)
	$(PY) -m beam_pipeline sample --out $(DEMO)/datastore
	$(PY) -m beam_pipeline run --config config/examples/demo.yaml
	$(PY) -m beam_pipeline query --sql "SELECT date_trunc('hour', closed_at) AS hour, count(*) AS ledgers, \
	  sum(operation_count) AS operations FROM ledgers GROUP BY 1 ORDER BY 1" --root $(DEMO)/archive

test: venv
	$(PY) -m pytest -q

bench: venv
	$(PY) -m beam_pipeline bench

lint: venv
	$(PY) -m pip install --quiet ruff
	$(PY) -m ruff check beam_pipeline tests

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache
