# Two-command setup: `make demo` and `make test` each create .venv when missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean qgis-plugin

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,boundaries]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/hzspatial demo

test: $(STAMP)
	$(BIN)/ruff check hzspatial tests scripts qgis_plugin
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check hzspatial tests scripts
	$(BIN)/ruff format --check hzspatial tests scripts

# the QGIS Processing provider, installable from the zip (Plugins → Install from ZIP)
qgis-plugin:
	rm -rf dist/hzspatial_qgis.zip && mkdir -p dist
	cd qgis_plugin && $(PYTHON) -c "import shutil; shutil.make_archive('../dist/hzspatial_qgis', 'zip', '.', 'hzspatial_qgis')"

clean:
	rm -rf maps/hanzhong_demo .pytest_cache
