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
	$(VENV)/bin/ruff check bot tests tools
	$(VENV)/bin/ruff format --check bot tests tools

format: $(STAMP)
	$(VENV)/bin/ruff format bot tests tools
	$(VENV)/bin/ruff check --fix bot tests tools

## eval: the dev question set
eval: $(STAMP)
	$(PY) -m bot eval ../shared/eval/dev.jsonl

## bench: search speed and memory against plain rank-bm25 (N=100k passages)
bench: $(STAMP)
	$(PY) -m bot bench --passages 100000

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

## bench-faults: figures for kills, stops, storms and a faulty Bot API (real bot processes)
.PHONY: bench-faults
bench-faults: $(STAMP)
	$(PY) -m pytest -q -s -p no:cacheprovider tests/test_chaos.py tests/test_process.py \
		tests/test_fairness.py 2>&1 | grep -E "^(chaos|SIGTERM|private|token|/sources)|passed|failed"
