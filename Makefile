# Set-up and the main job. Every target installs what it needs, idempotently.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
BUDGET  ?= 200
ARGS    ?=

.PHONY: install search test bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

search: install
	$(BIN)/nas search --budget $(BUDGET) $(ARGS)

test: install
	$(BIN)/python -m pytest -q tests

clean:
	rm -rf $(VENV) .pytest_cache
