"""The command line as scripts and people use it (subprocesses, real corpus)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from .search_fixtures import PROJECT, SHARED


def run(*args: str, stdin: str | None = None, env: dict | None = None, cwd=PROJECT):
    e = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    e.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=e,
        cwd=cwd,
        timeout=120,
    )


def test_console_chat_without_token_answers_stdin(tmp_path):
    # `python -m bot` without a token is the console chat; run from a folder without .env
    r = run(stdin="When was INDUS-X launched?\n", env={"PYTHONPATH": str(PROJECT)}, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Launched on June 21 last year" in r.stdout
    assert "003_720ff74dff0efb45.txt, line 6" in r.stdout
    assert "Traceback" not in r.stderr


def test_console_chat_says_when_nothing_answers():
    r = run("chat", stdin="How do I cook pasta carbonara?\n\n")
    assert r.returncode == 0
    assert "don't answer" in r.stdout
    assert "Ask me a question" in r.stdout  # the empty line got the hint


def test_ask_plain_text():
    r = run("ask", "Who is Vikram Misri?")
    assert r.returncode == 0
    assert "Indian Foreign Secretary Vikram Misri" in r.stdout
    assert "000_5be7e3b390ce0bde.txt, line 1" in r.stdout


def test_ask_json_shape():
    r = run("ask", "--json", "--top", "2", "What is LEMOA?")
    assert r.returncode == 0, r.stderr
    obj = json.loads(r.stdout)
    assert obj["question"] == "What is LEMOA?"
    assert 1 <= len(obj["hits"]) <= 2
    for h in obj["hits"]:
        assert set(h) == {"file", "lines", "score", "text", "title", "answers"}
        assert isinstance(h["score"], float) and h["lines"][0] <= h["lines"][1]
        assert "LEMOA" in h["text"]


def test_ask_json_abstains_with_empty_hits():
    r = run("ask", "--json", "What is the weather in Delhi today?")
    assert json.loads(r.stdout)["hits"] == []


def test_ask_json_stdin_one_object_per_line_in_order():
    qs = ["What is LEMOA?", "", "What is QFMM?", "pasta carbonara"]
    r = run("ask", "--json", "-", stdin="\n".join(qs) + "\n")
    assert r.returncode == 0, r.stderr
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert [o["question"] for o in out] == qs
    assert out[0]["hits"] and not out[1]["hits"] and out[2]["hits"] and not out[3]["hits"]


def test_corpus_option_and_env(tmp_path):
    (tmp_path / "a.txt").write_text(
        "The lighthouse on the northern cape was rebuilt in 1902 by the navy.\n"
    )
    r = run("ask", "--json", "--corpus", str(tmp_path), "When was the lighthouse rebuilt?")
    assert json.loads(r.stdout)["hits"][0]["file"] == "a.txt"
    r = run("ask", "--json", "lighthouse", env={"CORPUS_DIR": str(tmp_path)})
    assert json.loads(r.stdout)["hits"][0]["file"] == "a.txt"


def test_empty_question_gets_a_hint():
    r = run("ask", "   ")
    assert r.returncode == 0 and "Ask me a question" in r.stdout


@pytest.mark.parametrize("folder", ["/nonexistent/corpus", "EMPTY"])
def test_missing_or_empty_corpus_is_one_line_error(tmp_path, folder):
    path = str(tmp_path) if folder == "EMPTY" else folder
    r = run("ask", "x", "--corpus", path)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and r.stderr.startswith("error:")


def test_eval_prints_the_measures():
    path = SHARED / "eval" / "dev.jsonl"
    if not path.exists():
        pytest.skip("no dev set beside this checkout")
    r = run("eval", str(path))
    assert r.returncode == 0, r.stderr
    for word in ("success@1", "success@3", "MRR@3", "false-abstain rate", "abstain accuracy"):
        assert word in r.stdout


def test_malformed_token_is_one_line_error_naming_the_setting():
    r = run(env={"TELEGRAM_BOT_TOKEN": "not-a-token"})
    assert r.returncode != 0
    assert "TELEGRAM_BOT_TOKEN" in r.stderr and "Traceback" not in r.stderr
