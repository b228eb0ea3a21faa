# grokscope: the two commands are `make run` and `make test`.
# Both install what they need first (scripts/setup, idempotent).
SHELL := /bin/bash
CARGO ?= cargo
BIN := target/release/grokscope

.PHONY: setup build run test test-rust test-notebooks test-paper test-interop paper figures experiments lab bench clean-runs

setup:
	@scripts/setup

build: setup
	$(CARGO) build --release

# The main job: a quick suite (small moduli, 1500 epochs) trained, analysed
# and drawn into scratch/ in a few minutes. FULL=1 trains the paper's
# experiments at full size (hours) and redraws figures/ and paper/generated/.
run: build
	$(BIN) run $(if $(FULL),--full,)

# Every test. The Rust tests include the numpy and PyTorch cross-checks, the
# byte-stable regeneration of figures/ and paper/generated/ from experiments/,
# and an exact retrain of one stored configuration.
test: setup test-rust test-notebooks test-paper

# The maths-only build (no libtorch) is tested too, so it keeps compiling;
# clippy's warnings fail the test (rustup's default profile installs clippy).
test-rust:
	$(CARGO) clippy --release --all-targets -- -D warnings
	$(CARGO) test --release
	$(CARGO) test --release --no-default-features

# The notebooks headless, then the kernel over the Jupyter protocol: an Err
# or a panic fails its cell and keeps earlier variables, training prints
# progress as it runs (scripts/kernel-check.py; its timings are printed).
test-notebooks:
	scripts/run-notebooks
	.venv/bin/python scripts/kernel-check.py

test-paper:
	scripts/build-paper ../scratch/paper

# The TransformerLens round trip against the real library: installs
# TransformerLens 3 into .venv once (~50 s), then ~25 s. Not part of `make test`.
test-interop: build
	scripts/install-transformer-lens
	.venv/bin/python scripts/interop_test.py $(BIN)

# paper/main.pdf from paper/main.tex and paper/generated/.
paper: setup
	scripts/build-paper

# Redraw figures/ and paper/generated/ from experiments/ (no training).
figures: build
	$(BIN) figures

# The paper's experiments at full size, analysed, then figures (same as
# `make run FULL=1`).
experiments: build
	$(BIN) run --full

# Jupyter Lab on notebooks/ with the project's registered Rust kernel.
# Every piece of Jupyter state (kernels, settings, workspaces, runtime files)
# stays in .jupyter/ of the project; as root, Jupyter needs --allow-root.
JUPYTER_ENV = JUPYTER_PATH=$(CURDIR)/.jupyter JUPYTER_DATA_DIR=$(CURDIR)/.jupyter \
	JUPYTER_CONFIG_DIR=$(CURDIR)/.jupyter/config JUPYTER_RUNTIME_DIR=$(CURDIR)/.jupyter/runtime \
	JUPYTERLAB_SETTINGS_DIR=$(CURDIR)/.jupyter/lab/user-settings \
	JUPYTERLAB_WORKSPACES_DIR=$(CURDIR)/.jupyter/lab/workspaces IPYTHONDIR=$(CURDIR)/.jupyter/ipython
lab: setup
	$(JUPYTER_ENV) .venv/bin/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/

bench: build
	$(BIN) bench

clean-runs:
	rm -rf runs scratch
