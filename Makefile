# grokscope: the two commands are `make run` and `make test`.
# Both install what they need first (scripts/setup, idempotent).
SHELL := /bin/bash
CARGO ?= cargo
BIN := target/release/grokscope

.PHONY: setup build run test test-rust lab bench clean-runs

setup:
	@scripts/setup

build: setup
	$(CARGO) build --release

# The main job on an embedded default that finishes in minutes;
# `make run FULL=1` runs the full reference suite instead.
run: build
	$(BIN) run $(if $(FULL),--full,)

# Every test: the Rust unit and integration tests (release profile, so the
# build is shared with `make run`).
test: setup test-rust

test-rust:
	$(CARGO) test --release

# Jupyter Lab on notebooks/ with the project's registered Rust kernel.
lab: setup
	JUPYTER_PATH=$(CURDIR)/.jupyter .venv/bin/jupyter lab notebooks/

bench: build
	$(CARGO) bench

clean-runs:
	rm -rf runs scratch
