# CivicDAO — `make demo` runs the civic demo on a local chain it starts; `make test` runs every check.
# Both install what is missing first: .venv (pip) and node_modules (npm ci), then the solc-js shim.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PY_SOURCES := civicdao tests benchmarks $(wildcard scripts)
export PATH := $(CURDIR)/$(BIN):$(CURDIR)/node_modules/.bin:$(PATH)
# The solc-js shim `make setup` installs (~/.solcx/solc-v0.8.28, or under $SOLCX_BINARY_PATH): Slither and Forge
# compile through it, offline.
SOLC_SHIM = $(shell $(BIN)/python -c "from civicdao.toolchain import solc_shim_path; print(solc_shim_path())")
FORGE := node_modules/.bin/forge

.PHONY: setup browser test lint typecheck solhint slither invariants fuzz bench pytest demo compile mocks clean brownie-networks

setup: $(VENV)/.installed node_modules/.installed
	@$(BIN)/civicdao toolchain install
	@$(BIN)/python -c "from civicdao.toolchain import register_brownie_networks as r; r()"

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	$(BIN)/python -m pip check
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

compile: setup
	$(BIN)/civicdao compile

# The test-only contracts (contracts/mocks): never shipped, built into build/test-contracts (not committed).
# The tests build them on demand too (tests/mock_contracts.py); this target does it before pytest starts.
mocks: setup
	$(BIN)/civicdao compile --mocks

lint: setup
	$(BIN)/ruff check $(PY_SOURCES)
	$(BIN)/ruff format --check $(PY_SOURCES)

typecheck: setup
	$(BIN)/mypy

solhint: setup
	npx --no-install solhint --max-warnings 0 'contracts/**/*.sol'

# Slither over contracts/ (mocks excluded) with the build's own compiler settings; fails on any high or medium
# finding (slither.config.json). Each reviewed false positive carries an inline `slither-disable-next-line` with
# its reason; SECURITY.md lists them.
slither: setup
	$(BIN)/python toolchain/slither_input.py build/slither/input.json
	$(BIN)/slither build/slither/input.json --compile-force-framework Solc-json --solc "$(SOLC_SHIM)"

# The short invariant campaign (foundry.toml [invariant]: 3 runs x 500 calls per invariant, every invariant
# checked after every call) over the whole suite; prints steps and time per invariant.
invariants: setup
	FOUNDRY_SOLC="$(SOLC_SHIM)" $(FORGE) test --json -vv | $(BIN)/python toolchain/forge_report.py

# The long campaign: >= 10,000 calls per invariant (foundry.toml [profile.fuzz.invariant]).
fuzz: setup
	FOUNDRY_PROFILE=fuzz FOUNDRY_SOLC="$(SOLC_SHIM)" $(FORGE) test --json -vv | $(BIN)/python toolchain/forge_report.py

# The browser tests drive Debian's Chromium (Playwright's own download fails here). CI installs it (it runs as
# root); elsewhere a missing browser skips those tests, and with CI=true it fails them.
browser:
	@if [ "$$CI" = "true" ] && ! command -v chromium >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

# Two workers (pytest-xdist), one test file per worker in order (--dist loadfile: a module's tests keep
# their order and its module-scoped chain state): 5 min instead of 9 on two cores. PYTEST_ARGS adds to it.
pytest: setup browser mocks
	$(BIN)/pytest -n 2 --dist loadfile $(PYTEST_ARGS)

test: lint typecheck solhint slither invariants pytest

# Brownie's `ganache-shanghai` network (Ganache 7.9.2, Shanghai) in ~/.brownie/network-config.yaml; idempotent
# (setup does it too, quietly).
brownie-networks: setup
	$(BIN)/python -c "from civicdao.toolchain import register_brownie_networks as r; \
	print('brownie networks:', ', '.join(r()) or 'already registered')"

# Benchmarks (not part of `make test`): gas of every civic action at 10 and 10,000 citizens beside OpenZeppelin's
# stock governor and Sablier Lockup (benchmarks/REPORT.md, results.json); the event index (index.json); and a
# participatory-budgeting replay of 5,000 voters (budget.json). About 20 minutes on 2 cores.
bench: setup mocks
	$(BIN)/python -m benchmarks.gas_bench
	$(BIN)/python benchmarks/index_bench.py
	$(BIN)/python benchmarks/budget_bench.py

demo: setup
	$(BIN)/civicdao demo

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache build
