"""The command line as scripts and people use it (subprocesses, real corpus)."""

from __future__ import annotations

import json
import os
import sys
import time

import pytest

from .helpers.cli import run
from .search_fixtures import DATA, PROJECT


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
        assert set(h) == {"file", "lines", "score", "text", "title", "answers"} | {
            "source",
            "page",
            "section",
        }
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
    path = DATA / "dev.jsonl"
    r = run("eval", str(path))
    assert r.returncode == 0, r.stderr
    for word in ("success@1", "success@3", "MRR@3", "false-abstain", "abstain accuracy"):
        assert word in r.stdout


def test_malformed_token_is_one_line_error_naming_the_setting():
    r = run(env={"TELEGRAM_BOT_TOKEN": "not-a-token"})
    assert r.returncode != 0
    assert "TELEGRAM_BOT_TOKEN" in r.stderr and "Traceback" not in r.stderr


def test_help_says_what_bare_python_m_bot_does_and_version_is_shown():
    r = run("--help")
    assert "Without a command" in r.stdout and "TELEGRAM_BOT_TOKEN" in r.stdout
    r = run("--version")
    assert r.returncode == 0 and r.stdout.strip().startswith("python -m bot ")


def test_ask_accepts_unquoted_words_as_one_question():
    r = run("ask", "--json", "What", "is", "LEMOA?")
    assert r.returncode == 0, r.stderr
    obj = json.loads(r.stdout)
    assert obj["question"] == "What is LEMOA?" and "LEMOA" in obj["hits"][0]["text"]


def test_top_hits_is_the_default_of_top_and_both_are_checked_alike():
    q = "Hegseth Jaishankar India defense"
    r = run("ask", "--json", q, env={"TOP_HITS": "1"})
    assert len(json.loads(r.stdout)["hits"]) == 1
    r = run("ask", "--json", "--top", "2", q, env={"TOP_HITS": "1"})
    assert len(json.loads(r.stdout)["hits"]) == 2
    for bad in (["ask", "--top", "11", q], ["ask", "--top", "0", q]):
        r = run(*bad)
        assert r.returncode == 2 and "between 1 and 10" in r.stderr
    r = run("ask", q, env={"TOP_HITS": "11"})
    assert r.returncode == 2 and "TOP_HITS must be between 1 and 10" in r.stderr


@pytest.mark.parametrize("command", ["check", "index", "eval", "unanswered"])
def test_top_is_offered_only_where_it_works(command):
    r = run(command, "--top", "2")
    assert r.returncode == 2 and "unrecognized arguments: --top" in r.stderr


def test_ask_json_replaces_invalid_input_bytes_so_the_output_is_utf8():
    r = run("ask", "--json", "-", stdin=b"What is LEMOA\xff?\n\xc3(\n", text=False)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode("utf-8").splitlines()  # strict: raises on invalid UTF-8
    assert [json.loads(ln)["question"] for ln in lines] == ["What is LEMOA\ufffd?", "\ufffd("]
    r = run("ask", "--json", os.fsdecode(b"LEMOA \xff"), text=False)
    assert json.loads(r.stdout.decode("utf-8"))["question"] == "LEMOA \ufffd"


def test_ask_conversation_reads_follow_ups_and_a_blank_line_starts_afresh():
    msgs = ["What is LEMOA?", "when was it signed?", "", "when was it signed?"]
    r = run("ask", "--json", "--conversation", "-", stdin="\n".join(msgs) + "\n")
    assert r.returncode == 0, r.stderr
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert [o["question"] for o in out] == [m for m in msgs if m]
    assert [o["carried"] for o in out] == [[], ["LEMOA"], []]
    assert "(LEMOA) in 2016" in out[1]["hits"][0]["text"]
    keys = {"file", "lines", "score", "text", "title", "answers", "source", "page", "section"}
    assert set(out[1]["hits"][0]) == keys
    assert all("LEMOA" not in h["text"] for h in out[2]["hits"])


def test_chat_keeps_context_says_how_it_read_and_new_resets(tmp_path):
    msgs = ["Who is Marco Rubio?", "which meeting was he at?", "/new", "which meeting was he at?"]
    r = run("chat", stdin="\n".join(msgs) + "\n", env={"STATE_DIR": str(tmp_path)})
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("Reading this with: Marco Rubio") == 1
    replies = r.stdout.split("\n\n")
    assert "quad ministerial meeting" in r.stdout
    assert sum("Reading this with" in x for x in replies) == 1


def test_unanswered_questions_are_kept_and_listed_most_frequent_first(tmp_path):
    env = {"STATE_DIR": str(tmp_path)}
    msgs = ["How do I cook pasta carbonara?", "What is LEMOA?", "who won the cricket?"]
    run("chat", stdin="\n".join(msgs + msgs[:1]) + "\n", env=env)
    r = run("unanswered", env=env)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[1:] == ["2× How do I cook pasta carbonara?", "1× who won the cricket?"]
    off = {**env, "UNANSWERED_LOG": "off"}
    run("chat", stdin="what is the capital of Peru?\n", env=off)
    assert "Peru" not in run("unanswered", env=env).stdout
    assert "UNANSWERED_LOG=off" in run("unanswered", env=off).stdout


def test_eval_scores_a_conversation_file():
    r = run("eval", str(DATA / "dialogues-dev.jsonl"))
    assert r.returncode == 0, r.stderr
    assert "answerable 19, unanswerable 2" in r.stdout
    assert "success@3" in r.stdout


def test_console_chat_on_a_terminal_has_a_prompt_and_line_history(tmp_path):
    import pty
    import select

    pid, fd = pty.fork()
    if pid == 0:  # the child: the console chat on a terminal
        env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
        env.update(STATE_DIR=str(tmp_path), TERM="dumb")
        os.chdir(PROJECT)
        os.execve(sys.executable, [sys.executable, "-m", "bot", "chat"], env)
    out = b""

    def read_until(token: bytes) -> None:
        nonlocal out
        deadline = time.monotonic() + 60
        while token not in out and time.monotonic() < deadline:
            if select.select([fd], [], [], 1)[0]:
                try:
                    out += os.read(fd, 65536)
                except OSError:
                    break

    try:
        read_until(b"> ")
        os.write(fd, b"What is LEMOA?\r")
        read_until(b"Logistics Exchange")
        out = b""
        os.write(fd, b"\x1b[A\r")  # up arrow: the last question again
        read_until(b"Logistics Exchange")
        assert b"What is LEMOA?" in out and b"Logistics Exchange" in out
        # the prompt again, after the whole reply: Ctrl-D sent before it would be lost
        deadline = time.monotonic() + 60
        while not out.endswith(b"\n> ") and time.monotonic() < deadline:
            if select.select([fd], [], [], 1)[0]:
                out += os.read(fd, 65536)
        os.write(fd, b"\x04")  # Ctrl-D
    finally:
        deadline = time.monotonic() + 30
        while (waited := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        if waited[0] == 0:  # a failed step left the chat running: end it, never hang the suite
            os.kill(pid, 9)
            waited = os.waitpid(pid, 0)
        status = waited[1]
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0
    assert (tmp_path / "chat_history").read_text().strip().endswith("What is LEMOA?")


def test_run_honours_corpus(tmp_path):
    # the bot reads the folder given with --corpus (here one without articles: it says so)
    token = "123456:" + "A" * 35
    r = run("run", "--corpus", str(tmp_path), "--top", "2", env={"TELEGRAM_BOT_TOKEN": token})
    assert r.returncode == 2 and f"no usable article in corpus folder {tmp_path}" in r.stderr
    assert token not in r.stderr and "Traceback" not in r.stderr
