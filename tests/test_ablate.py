"""``python -m bot ablate``: one row per switch of ``Features``, scored on the sets given."""

from __future__ import annotations

import json

from bot.cli import main
from bot.features import switches


def test_ablate_prints_a_row_per_switch_and_spelling_off_loses_a_misspelled_question(
    tmp_path, monkeypatch, capsys
):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(
        "The Northern Cape\n"
        "The lighthouse on the northern cape was rebuilt in 1902 after a winter storm.\n"
        "Fishermen from the village mended their nets on the pier every morning.\n",
        encoding="utf-8",
    )
    questions = tmp_path / "typos.jsonl"
    rows = [
        {"id": "q1", "question": "the lighthuose?", "file": "a.txt", "line": 2, "answers": []},
        {"id": "q2", "question": "Where did fishermen mend their nets?", "file": "a.txt",
         "line": 3, "answers": []},
    ]  # fmt: skip
    questions.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    monkeypatch.setenv("INDEX_DIR", str(tmp_path / "index"))
    assert main(["ablate", "--set", str(corpus), str(questions)]) == 0
    lines = capsys.readouterr().out.splitlines()
    table = [[c.strip() for c in line.strip("|").split("|")] for line in lines[3:]]
    assert [row[0] for row in table] == ["everything on"] + [f"no {n}" for n, _ in switches()]
    assert all(len(row) == 4 for row in table)  # the set, the union, the verdict
    by_name = {row[0]: row for row in table}
    assert by_name["everything on"][1].startswith("1.00 / 1.00 / 0.00")
    # without spelling correction "lighthuose" is no corpus word: that question gets nothing
    assert by_name["no spelling"][1].startswith("0.50 / 0.50 / 0.50")
    assert by_name["no spelling"][3].startswith("pays")
