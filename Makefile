# The front door: `make run` and `make test` do all set-up on a fresh clone.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench eval index check clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: the Telegram bot with TELEGRAM_BOT_TOKEN set (env or .env), else a console chat
run: $(STAMP)
	$(PY) -m bot

## test: lint, then the whole test suite
test: $(STAMP) lint
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check bot tests tools benchmarks
	$(VENV)/bin/ruff format --check bot tests tools benchmarks

format: $(STAMP)
	$(VENV)/bin/ruff format bot tests tools benchmarks
	$(VENV)/bin/ruff check --fix bot tests tools benchmarks

## eval: the dev question set
eval: $(STAMP)
	$(PY) -m bot eval ../shared/eval/dev.jsonl

## bench: speed and memory against tantivy and bm25s (numba), two corpora of 100k passages
BENCH_STAMP := $(VENV)/.installed-bench
$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(PY) -m benchmarks --passages 100000

index: $(STAMP)
	$(PY) -m bot index

check: $(STAMP)
	$(PY) -m bot check

clean:
	rm -rf $(VENV) .cache .pytest_cache

## bench-bot: update->reply latency and throughput of the bot through the Bot API stand-in
.PHONY: bench-bot
bench-bot: $(STAMP)
	PYTHONPATH=. $(PY) tools/bench_telegram.py
