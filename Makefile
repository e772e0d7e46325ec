# Two commands: `make run` (the app with a demo company in SQLite) and `make test` (everything).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PORT ?= 8501
export CRM_IMPL_DATABASE_URL ?= sqlite:///crm_impl.db

.PHONY: install run test lint bench clean

$(STAMP): pyproject.toml
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install -q uv
	@test -x $(PY) || python3 -m uv venv -q --python 3.11 $(VENV)
	python3 -m uv pip install -q --python $(PY) -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(VENV)/bin/crm-impl init
	$(VENV)/bin/crm-impl demo --if-empty $(if $(FORCE),--force)  # refused on a database with real users
	CRM_IMPL_DEMO_MODE=true $(VENV)/bin/streamlit run serve.py --server.port $(PORT) --server.headless true

PYTEST_ARGS ?= -n 2

test: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The gates CI runs before the tests: ruff (lint and format), mypy on the package (0 errors outside
# the migrations) and the import-linter contracts of .importlinter (docs/architecture.md).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy crm_impl
	$(VENV)/bin/lint-imports

bench: install
	$(PY) -m bench.pipeline
	$(PY) -m bench.defects
	$(PY) -m bench.import_deals

clean:
	rm -rf $(VENV) crm_impl.db crm_impl.db-wal crm_impl.db-shm
