"""The benchmark's figures as tables and ratios (pure: results in, text out)."""

from __future__ import annotations

from typing import Any

from .squad import format_squad

SYSTEMS = ("ours", "base", "tantivy", "bm25s")
COLUMNS = (
    ("system", 8, None),
    ("build s", 8, "build_wall_s"),
    ("build CPU s", 11, "build_cpu_s"),
    ("build peak MB", 13, "build_peak_tree_rss_mb"),
    ("warm start s", 12, "warm_start_s"),
    ("in-proc med ms", 14, ("inproc", "median_ms")),
    ("in-proc p99 ms", 14, ("inproc", "p99_ms")),
    ("process ms/q", 12, "whole_ms_per_question"),
    ("process CPU ms/q", 16, "whole_cpu_ms_per_question"),
    ("serving RSS MB", 14, "serve_peak_rss_mb"),
)


def _get(s: dict[str, Any], key: Any) -> Any:
    if isinstance(key, tuple):
        return (s.get(key[0]) or {}).get(key[1])
    return s.get(key)


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.{digits}f}" if abs(v) < 100 else f"{v:,.0f}"
    return str(v)


def ratio(a: Any, b: Any) -> float | None:
    if isinstance(a, int | float) and isinstance(b, int | float) and b > 0:
        return round(a / b, 3)
    return None


def table(systems: dict[str, dict[str, Any]]) -> str:
    lines = ["  ".join(f"{c:>{w}}" if i else f"{c:<{w}}" for i, (c, w, _) in enumerate(COLUMNS))]
    lines.append("  ".join("-" * w for _, w, _ in COLUMNS))
    for name in SYSTEMS:
        s = systems.get(name)
        if not s:
            continue
        cells = [name] + [_fmt(_get(s, key)) for _, _, key in COLUMNS[1:]]
        lines.append(
            "  ".join(
                f"{c:>{w}}" if i else f"{c:<{w}}"
                for i, (c, (_, w, _)) in enumerate(zip(cells, COLUMNS, strict=True))
            )
        )
    return "\n".join(lines)


def ratios(systems: dict[str, dict[str, Any]], peer: str) -> dict[str, float | None]:
    ours, other = systems["ours"], systems.get(peer) or {}
    return {
        key if isinstance(key, str) else "_".join(key): ratio(_get(ours, key), _get(other, key))
        for _, _, key in COLUMNS[1:]
    }


def format_report(res: dict[str, Any]) -> str:
    m = res["machine"]
    out = [
        f"machine: {m.get('cpu')}, {m.get('nproc')} CPU(s), Python {m.get('python')}, numpy "
        f"{m.get('numpy')}, tantivy {m.get('tantivy')}, bm25s {m.get('bm25s')}, numba "
        f"{m.get('numba')}",
    ]
    if res["kinds"]:
        out.append(
            f"N = {res['n_passages']:,} passages, Q = {res['n_questions']:,} timed questions, "
            f"{res['rounds']} rounds (systems take turns)"
        )
    for kind, r in res["kinds"].items():
        c = r["corpus"]
        systems = r["systems"]
        out += [
            "",
            f"== corpus '{kind}': {c['files']:,} files, {c['words']:,} words "
            f"(e.g. {r['sample_questions'][0]!r})",
            table(systems),
        ]
        if "base" in systems:
            rt = ratios(systems, "base")
            out.append(
                f"ours / base ({res.get('base')}): process ms/q "
                f"{_x(rt['whole_ms_per_question'])}, CPU "
                f"{_x(rt['whole_cpu_ms_per_question'])} (rounds: ours "
                f"{_rounds(systems['ours'])}, base {_rounds(systems['base'])}), in-process "
                f"median {_x(rt['inproc_median_ms'])} (p99 {_x(rt['inproc_p99_ms'])}), warm "
                f"start {_x(rt['warm_start_s'])}, build CPU {_x(rt['build_cpu_s'])}, serving "
                f"RSS {_x(rt['serve_peak_rss_mb'])}"
            )
        for peer in ("tantivy", "bm25s"):
            if peer not in systems:
                continue
            rt = ratios(systems, peer)
            out.append(
                f"ours / {peer}: process ms/q {_x(rt['whole_ms_per_question'])} (CPU "
                f"{_x(rt['whole_cpu_ms_per_question'])}), in-process "
                f"median {_x(rt['inproc_median_ms'])} (p99 {_x(rt['inproc_p99_ms'])}), warm "
                f"start {_x(rt['warm_start_s'])}, build CPU {_x(rt['build_cpu_s'])}, build peak "
                f"RSS {_x(rt['build_peak_tree_rss_mb'])}, serving RSS "
                f"{_x(rt['serve_peak_rss_mb'])}"
            )
        out.append(
            "warm start CPU s (spawn -> first answer): "
            + ", ".join(
                f"{n} {systems[n]['warm_start_cpu_s']:.3f}"
                for n in SYSTEMS
                if systems.get(n, {}).get("warm_start_cpu_s") is not None
            )
        )
        o = systems["ours"]
        out.append(
            "answered (hits or related passages) / source passage among the quotes: "
            + ", ".join(_quoted(n, systems[n]) for n in SYSTEMS if n in systems)
        )
        k30 = o.get("inproc_k30", {})
        e = r.get("exactness", {})
        out.append(
            f"ours in-process top 30 (what search asks for): median {_fmt(k30.get('median_ms'))}"
            f" ms, p99 {_fmt(k30.get('p99_ms'))} ms; serving process at the end: "
            f"{_fmt(o.get('serve_rss_anon_mb'), 0)} MB heap + "
            f"{_fmt(o.get('serve_rss_file_mb'), 0)} MB mapped index files"
        )
        line = (
            f"exactness: top_k vs exhaustive scoring, disagreements on {e.get('questions')} "
            f"questions: {e.get('top3_disagreements')} (top 3), "
            f"{e.get('top30_disagreements')} (top 30)"
        )
        if "rank_bm25_questions" in e:
            line += (
                f"; vs rank-bm25 BM25Okapi.get_scores on {e['rank_bm25_questions']}: "
                f"{e['rank_bm25_disagreements']}"
            )
        out.append(line)
        for name in ("ours", "base"):
            if not r.get(f"{name}_warm_used_saved_index", True):
                out.append(
                    f"WARNING: {name} rebuilt its index when serving: warm figures are not warm"
                )
    if "squad" in res:
        out.append(format_squad(res["squad"]))
    if not res["kinds"]:
        return "\n".join(out)
    out += [
        "",
        "build: wall and CPU seconds (the process and its workers) of `python -m bot index` / "
        "the peer's build from the same files; build peak = the process tree's resident memory.",
        "warm start: a fresh process over the saved index, spawn -> first answer.",
        "process CPU ms/q: the same batch in the serving process's user + system CPU seconds "
        "(steadier than wall time when the machine is shared).",
        "process ms/q: every question written at once to `python -m bot ask --json -` (peers: "
        "a server answering the same JSON lines with the passages' texts), time / questions, "
        "median of the rounds.",
        "in-proc: ranking only, top 3, questions analysed beforehand (ours: BM25Index.top_k; "
        "tantivy: searcher.search; bm25s: retrieve, numba backend).",
    ]
    return "\n".join(out)


def _rounds(s: dict[str, Any]) -> str:
    return "/".join(f"{x:.3f}" for x in s.get("whole_rounds_ms", []))


def _quoted(name: str, s: dict[str, Any]) -> str:
    return f"{name} {s.get('answered', 0):.1%} / {s.get('source_quoted', 0):.1%}"


def _x(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}x"
