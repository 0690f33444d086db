# The two commands a newcomer needs: `make run` and `make test`.
# Both create .venv when missing and install what they need.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# llama-cpp-python compiles llama.cpp from source; a native build dies with SIGILL on
# virtualised x86-64 CPUs that advertise AMX, so build portably (see docs/operations.md).
ARCH := $(shell uname -m)
ifeq ($(ARCH),x86_64)
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
endif
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench clean container-test

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip setuptools wheel

# Re-install whenever pyproject.toml changes. --no-cache-dir: pip would otherwise reuse a
# cached llama-cpp-python wheel that may have been built without the portable flags.
$(STAMP): pyproject.toml | $(BIN)/python
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install --no-cache-dir -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/jokebot chat

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python -m bench.engine
	$(BIN)/python -m bench.runtime
	$(BIN)/python -m bench.scale
	$(BIN)/python -m bench.llm
	$(BIN)/python -m bench.screen
	$(BIN)/python -m bench.discord_load
	$(BIN)/python -m bench.slack_load --core real
	$(BIN)/python -m bench.console_load

# Build deploy/Containerfile and run deploy/compose.yaml for real (root podman, podman-compose;
# not part of `test`: the first build compiles llama.cpp). See docs/operations.md.
container-test:
	tests/container/smoke.sh

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
