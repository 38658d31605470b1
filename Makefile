# The front door: `make run` and `make test` do all set-up on a fresh clone.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
RUNTIME := $(VENV)/.installed-runtime
# make ask Q="When was INDUS-X launched?"
export Q

.PHONY: run ask chat unanswered test lint format bench eval ablate fit index check clean

# Recipes that print answers are silent (@): make's own command lines would mix into stdout.
$(PY):
	@$(PYTHON) -m venv $(VENV)

# Python's bytecode of the project, written ahead (kept fresh: a recipe that starts the project
# runs it); with PYTHONDONTWRITEBYTECODE set, every start would otherwise compile ~20 modules
BYTECODE = @$(PY) -m compileall -q bot benchmarks tools >/dev/null

# runtime dependencies only (run, ask, chat, ...)
$(RUNTIME): pyproject.toml bot/_native.c bot/_native_query.c | $(PY)
	@$(PY) -m pip install --quiet --upgrade pip
	@rm -f bot/_native*.so  # a failed compile must not leave an older build in place
	@$(PY) -m pip install --quiet -e .
	$(BYTECODE)
	@touch $(RUNTIME)

# with the dev extras (tests, lint; `make bench` adds the bench extra)
$(STAMP): pyproject.toml bot/_native.c bot/_native_query.c | $(PY)
	@$(PY) -m pip install --quiet --upgrade pip
	@rm -f bot/_native*.so
	@$(PY) -m pip install --quiet -e '.[dev]'
	$(BYTECODE)
	@touch $(STAMP) $(RUNTIME)

## run: the Telegram bot with TELEGRAM_BOT_TOKEN set (env or .env), else a console chat
run: $(RUNTIME)
	$(BYTECODE)
	@$(PY) -m bot

## ask: one question, e.g. make ask Q="When was INDUS-X launched?"
ask: $(RUNTIME)
	$(BYTECODE)
	@$(PY) -m bot ask "$$Q"

## chat: the console chat (follow-ups keep their context; /new resets)
chat: $(RUNTIME)
	$(BYTECODE)
	@$(PY) -m bot chat

## unanswered: questions that got no confident answer, most frequent first
unanswered: $(RUNTIME)
	@$(PY) -m bot unanswered

## test: lint, then the whole test suite
test: $(STAMP) lint
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check bot tests tools benchmarks
	$(VENV)/bin/ruff format --check bot tests tools benchmarks

format: $(STAMP)
	$(VENV)/bin/ruff format bot tests tools benchmarks
	$(VENV)/bin/ruff check --fix bot tests tools benchmarks

## eval: the question sets in tests/data (questions, then conversations, then SQuAD), each
## with bm25s beside the project (a dev extra, hence $(STAMP)); make eval HALF=even for a half
HALF ?= all
eval: $(STAMP)
	@for f in dev natural extra fresh heldout hinglish offtopic dialogues-dev; do \
		echo "== tests/data/$$f.jsonl"; \
		$(PY) -m bot eval --peers --half $(HALF) tests/data/$$f.jsonl || exit 1; \
	done
	@echo "== tests/data/squad (squad_ans.jsonl + squad_none.jsonl)"
	@$(PY) -m bot eval --peers --half $(HALF) --corpus tests/data/squad/corpus \
		tests/data/squad/squad_ans.jsonl tests/data/squad/squad_none.jsonl

## ablate: what each heuristic of bot/features.py buys, each switched off in turn, on the
## development sets (natural, dev, dialogues-dev over corpus/; tests/data/squad)
ablate: $(RUNTIME)
	$(BYTECODE)
	@$(PY) -m bot ablate

## bench: speed and memory against tantivy and bm25s (numba), two corpora of 100k passages,
## then the SQuAD corpus (whole question path vs a bm25s script; the sentence model's cost);
## make bench BASE=../other-checkout measures that checkout (its own make done) in the same run
BENCH_STAMP := $(VENV)/.installed-bench
$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BYTECODE)
	$(PY) -m benchmarks --passages 100000 $(if $(BASE),--base $(BASE))

## fit: refit the learned ranker and gate (bot/data/ranker.json) on the tuning halves
FIVE_SETS := tests/data/natural.jsonl tests/data/dev.jsonl tests/data/offtopic.jsonl
SQUAD := tests/data/squad
fit: $(STAMP)
	$(PY) tools/fit_ranker.py --set corpus $(FIVE_SETS) \
		--set $(SQUAD)/corpus $(SQUAD)/squad_ans.jsonl $(SQUAD)/squad_none.jsonl tests/data/offtopic.jsonl

index: $(RUNTIME)
	$(BYTECODE)
	@$(PY) -m bot index

check: $(RUNTIME)
	@$(PY) -m bot check

clean:
	rm -rf $(VENV) .cache .pytest_cache

## bench-bot: update->reply latency and throughput of the bot through the Bot API stand-in
.PHONY: bench-bot
bench-bot: $(STAMP)
	$(PY) -m benchmarks.telegram

## bench-faults: figures for kills, stops, storms and a faulty Bot API (real bot processes)
.PHONY: bench-faults
bench-faults: $(STAMP)
	$(PY) -m pytest -q -s -p no:cacheprovider tests/test_chaos.py tests/test_process.py \
		tests/test_fairness.py 2>&1 | grep -E "^(chaos|SIGTERM|private|token|/sources)|passed|failed"
