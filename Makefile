# Set-up and the main job. Every target installs what it needs, idempotently.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
BUDGET  ?= 200
# a fresh run of your own (results/lightweight_sr_x4 holds the committed reference run)
OUT     ?= runs/lightweight_sr_x4
ARGS    ?=

.PHONY: install search test clean workers docs

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

search: install
	$(BIN)/nas search --budget $(BUDGET) --out $(OUT) $(ARGS)

# Two phases: everything but the timing-sensitive tests on parallel workers (one per core, at most
# 4), then those (tests/robustness: heartbeats of 1 s, signals, several jobs, PostgreSQL) alone, so
# that no other test competes with their clocks. Each pytest's exit code fails the target.
TEST_WORKERS ?= auto
test: install
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --maxprocesses 4 -m "not serial" tests
	$(BIN)/python -m pytest -q -p no:xdist -m serial tests

# The documentation site (mkdocs + material + mkdocstrings, the `docs` extra) into site/, strict:
# a broken link, a missing page or a docstring mkdocstrings cannot read fails the build.
DOCS_STAMP := $(VENV)/.docs-installed
$(DOCS_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test,docs]'
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --clean --site-dir site

clean:
	rm -rf $(VENV) .pytest_cache site

# Many workers on one study: make workers N=4 STORAGE=postgresql://nas:nas@127.0.0.1:55432/nas STUDY=lsr_x4
# (on a second machine: FIRST=4, so its worker ids, hence sampler seeds, differ from the first's)
N       ?= 2
FIRST   ?= 0
STUDY   ?= lightweight_sr_x4_workers
STORAGE ?=
workers: install
	@test -n "$(STORAGE)" || { echo "set STORAGE=postgresql://user:pass@host:port/db (scripts/pg_local.sh start prints one)"; exit 2; }
	@pids=""; for i in $$(seq 0 $$(($(N) - 1))); do \
	  $(BIN)/nas search --budget $(BUDGET) --storage "$(STORAGE)" --study $(STUDY) --worker-id $$(($(FIRST) + $$i)) $(ARGS) \
	    > workers.$$i.log 2>&1 & pids="$$pids $$!"; done; \
	  echo "started $(N) workers (logs: workers.*.log)"; rc=0; for p in $$pids; do wait $$p || rc=$$?; done; exit $$rc
