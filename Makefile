# One-word commands for a fresh machine with Python 3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test demo lint bench docs course clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,plot]"
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest

demo: $(STAMP)
	$(BIN)/python -m tinygrad_bp xor

lint: $(STAMP)
	$(BIN)/ruff check tinygrad_bp tests examples benchmarks
	$(BIN)/ruff format --check tinygrad_bp tests examples benchmarks
	$(BIN)/mypy tinygrad_bp

# Benchmarks against whichever peers are installed (absent ones are skipped with a note).
# Installs nothing itself; for the peers, once, PyTorch's CPU build first (not the CUDA one):
# $(BIN)/pip install torch --index-url https://download.pytorch.org/whl/cpu
# then $(BIN)/pip install -e ".[bench]"
bench:
	$(if $(wildcard $(BIN)/python),$(BIN)/python,$(PYTHON)) benchmarks/run.py $(BENCH_ARGS)

# The site shows the course's notebooks executed, so the course is built first.
docs: $(STAMP) course
	$(BIN)/mkdocs build --strict --site-dir site

# The course (tinygrad_bp/course): the student and solutions notebooks (.ipynb), the
# solutions executed, and each as an HTML page, in build/course/; the docs site shows them.
course: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[course]"
	$(BIN)/python course/build.py --out build/course

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
