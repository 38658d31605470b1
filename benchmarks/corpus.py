"""Deterministic synthetic news-like corpora and questions for the benchmark.

Two kinds, both Zipf-distributed (exponent 1.1) over 300k pronounceable made-up words, ~55-word
paragraphs in 15-25-word sentences, 10 paragraphs per article file under a title line:

- ``english``: the most common English function words take the top Zipf ranks (the analyser
  drops them as stopwords, so questions' content words are mostly rare);
- ``frequent``: as ``english``, but 50 ordinary content words stand among the top ranks (as
  "India", "US" and "defence" do in a defence-news archive), in 5-30 % of the passages each.

Questions are 3-6 content words of one random passage with function words mixed in, behind a
question prefix ("What did ...?").
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from bot.analysis import STOPWORDS

GENERATOR_VERSION = 2
KINDS = ("english", "frequent")
PASSAGES_PER_FILE = 10
FILES_PER_CHUNK = 1000
FREQUENT_CONTENT_WORDS = 50  # the "frequent" kind: content words placed ...
FREQUENT_FROM_RANK = 10  # ... right after this many function words

# --- the synthetic corpus ----------------------------------------------------------------------

# The most common English function words: the top Zipf ranks, in rough frequency order.
_FUNCTION_TEXT = """
        the of and to a in is that for on with as was by at it he from his be are this an
        have has had not but or which were been their they its who said will would also one
        more than after about there her she we new first two can into other up out all over
        when some could what if no time year people so only them our just most these years
        like then may any because before while many where those such through during under
        between both each few own same here him how why down off again further once very
        should now being did does do having my your me us i you against above below until
        nor too last three made against since still well back even must much get make way
        another around last among while without however though against off per within
        upon whether yet across along already often us every whose whom itself ever never
"""
FUNCTION_WORDS = tuple(dict.fromkeys(_FUNCTION_TEXT.split()))
CONSONANTS = "bdfgklmnprstvz"
VOWELS = "aeiou"
FINALS = "nrslkmt"
SYNTHETIC_WORDS = 300_000
ZIPF_EXPONENT = 1.1
PARAGRAPH_WORDS = (35, 75)  # inclusive; mean 55
SENTENCE_WORDS = (15, 25)  # inclusive
MIN_LAST_SENTENCE = 6
TITLE_WORDS = 6
# Prefixes that shape a question; function words are mixed into the body as well.
QUESTION_PREFIXES = (
    "What about",
    "What did",
    "How did",
    "Why is",
    "Who said",
    "What is the",
    "Where is",
    "When did",
)
QUESTION_FILLERS = ("the", "of", "in", "and", "for", "to", "with", "on", "a")


def vocabulary(seed: int = 0, kind: str = "english") -> list[str]:
    """Words by Zipf rank: function words, then synthetic words (shorter ones more frequent);
    for ``frequent``, 50 synthetic words move up among the function words."""
    rng = np.random.default_rng([seed, 7])
    syll = [c + v for c in CONSONANTS for v in VOWELS]
    two = [a + b for a in syll for b in syll]
    two_f = [w + f for w in two for f in FINALS]
    three = [a + b + c for a in syll for b in syll for c in syll]
    taken = set(FUNCTION_WORDS) | set(STOPWORDS)
    two = [w for w in two if w not in taken]
    rng.shuffle(two)
    longer = np.array([w for w in two_f + three if w not in taken], dtype=object)
    rng.shuffle(longer)
    need = SYNTHETIC_WORDS - len(two)
    synthetic = two + longer[:need].tolist()
    if kind == "frequent":
        n, f = FREQUENT_CONTENT_WORDS, FREQUENT_FROM_RANK
        return list(FUNCTION_WORDS[:f]) + synthetic[:n] + list(FUNCTION_WORDS[f:]) + synthetic[n:]
    return list(FUNCTION_WORDS) + synthetic


@dataclass
class CorpusInfo:
    folder: str
    kind: str
    n_passages: int
    seed: int
    files: int
    words: int
    bytes: int
    vocabulary: int
    generate_seconds: float
    cached: bool = False
    version: int = GENERATOR_VERSION


def _zipf_cdf(n: int) -> np.ndarray:
    w = np.arange(1, n + 1, dtype=np.float64) ** -ZIPF_EXPONENT
    cdf = np.cumsum(w)
    return cdf / cdf[-1]


def _sample(rng: np.random.Generator, cdf: np.ndarray, n: int) -> np.ndarray:
    ids = np.searchsorted(cdf, rng.random(n), side="right")
    return np.minimum(ids, cdf.shape[0] - 1)


def file_name(i: int) -> str:
    return f"article_{i:06d}.txt"


def passage_location(p: int) -> tuple[str, int]:
    """(file name, 1-based line) of passage ``p``: title, blank, then a paragraph every 2 lines."""
    return file_name(p // PASSAGES_PER_FILE), 3 + 2 * (p % PASSAGES_PER_FILE)


def generate_corpus(folder: Path, n_passages: int, seed: int, kind: str = "english") -> CorpusInfo:
    """Write ``n_passages`` paragraphs, 10 per file, into ``folder`` (which must not exist)."""
    t0 = time.perf_counter()
    words = vocabulary(seed, kind)
    function = set(FUNCTION_WORDS)
    lower = np.array(words, dtype=object)
    caps = np.array([w[0].upper() + w[1:] for w in words], dtype=object)
    cdf = _zipf_cdf(len(words))
    content = np.array([i for i, w in enumerate(words) if w not in function])
    title_cdf = _zipf_cdf(content.size)
    seps = np.array([" ", ". ", ".\n\n"], dtype=object)
    rng = np.random.default_rng([seed, 1])
    n_files = -(-n_passages // PASSAGES_PER_FILE)
    folder.mkdir(parents=True)
    total_words = total_bytes = 0
    for f0 in range(0, n_files, FILES_PER_CHUNK):
        f1 = min(n_files, f0 + FILES_PER_CHUNK)
        p0, p1 = f0 * PASSAGES_PER_FILE, min(n_passages, f1 * PASSAGES_PER_FILE)
        n_par = p1 - p0
        lens = rng.integers(PARAGRAPH_WORDS[0], PARAGRAPH_WORDS[1] + 1, n_par)
        ends = np.cumsum(lens)
        starts = ends - lens
        n_tok = int(ends[-1])
        ids = _sample(rng, cdf, n_tok)
        # sentence ends inside each paragraph; the last sentence has at least 6 words
        max_sent = PARAGRAPH_WORDS[1] // SENTENCE_WORDS[0] + 1
        cum = np.cumsum(
            rng.integers(SENTENCE_WORDS[0], SENTENCE_WORDS[1] + 1, (n_par, max_sent)), axis=1
        )
        ok = cum <= (lens - MIN_LAST_SENTENCE)[:, None]
        sent_end = (starts[:, None] + cum - 1)[ok]
        code = np.zeros(n_tok, dtype=np.int8)
        code[sent_end] = 1
        code[ends - 1] = 2
        cap = np.zeros(n_tok, dtype=bool)
        cap[starts] = True
        cap[sent_end + 1] = True
        toks = np.where(cap, caps[ids], lower[ids])
        inter = np.empty(2 * n_tok, dtype=object)
        inter[0::2] = toks
        inter[1::2] = seps[code]
        pieces = inter.tolist()
        titles = caps[content[_sample(rng, title_cdf, (f1 - f0) * TITLE_WORDS)]].tolist()
        for k, f in enumerate(range(f0, f1)):
            a = f * PASSAGES_PER_FILE - p0
            b = min(n_par, a + PASSAGES_PER_FILE)
            ta, tb = 2 * int(starts[a]), 2 * int(ends[b - 1])
            title = " ".join(titles[k * TITLE_WORDS : (k + 1) * TITLE_WORDS])
            text = title + "\n\n" + "".join(pieces[ta : tb - 1]) + ".\n"
            data = text.encode("ascii")
            (folder / file_name(f)).write_bytes(data)
            total_bytes += len(data)
        total_words += n_tok
    return CorpusInfo(
        folder=str(folder),
        kind=kind,
        n_passages=n_passages,
        seed=seed,
        files=n_files,
        words=total_words,
        bytes=total_bytes,
        vocabulary=len(words),
        generate_seconds=round(time.perf_counter() - t0, 3),
    )


def ensure_corpus(workdir: Path, n_passages: int, seed: int, kind: str) -> CorpusInfo:
    """The corpus for (kind, N, seed) in ``workdir``, generated once and reused."""
    name = f"corpus-{kind}-{n_passages}-s{seed}"
    folder = workdir / name
    marker = workdir / f"{name}.json"
    if marker.is_file() and folder.is_dir():
        try:
            info = CorpusInfo(**json.loads(marker.read_text(encoding="utf-8")))
        except (TypeError, ValueError):
            info = None
        if info is not None and info.version == GENERATOR_VERSION:
            info.cached = True
            info.folder = str(folder)
            return info
    tmp = workdir / f".{name}.tmp"
    for stale in (tmp, folder):
        if stale.exists():
            shutil.rmtree(stale)
    marker.unlink(missing_ok=True)
    info = generate_corpus(tmp, n_passages, seed, kind)
    tmp.rename(folder)
    info.folder = str(folder)
    marker.write_text(json.dumps(asdict(info)), encoding="utf-8")
    return info


@dataclass(frozen=True)
class Question:
    text: str
    passage: int  # the passage the words were drawn from (global index, file order)


def make_questions(folder: Path, n_passages: int, n: int, seed: int) -> list[Question]:
    """``n`` questions, each made of 3-6 content words of one random passage plus fillers."""
    rng = np.random.default_rng([seed, 2])
    function = set(FUNCTION_WORDS) | set(STOPWORDS)
    out: list[Question] = []
    cache: dict[str, list[str]] = {}
    for p in rng.integers(0, n_passages, n).tolist():
        name, _ = passage_location(p)
        paras = cache.get(name)
        if paras is None:
            text = (folder / name).read_text(encoding="ascii")
            paras = text.rstrip("\n").split("\n\n")[1:]
            cache = {name: paras}
        words = [w.strip(".").lower() for w in paras[p % PASSAGES_PER_FILE].split()]
        content = list(dict.fromkeys(w for w in words if w not in function))
        k = min(len(content), int(rng.integers(3, 7)))
        picked = sorted(rng.choice(len(content), size=k, replace=False).tolist())
        body = [content[i] for i in picked]
        for _ in range(int(rng.integers(1, 3))):
            pos = int(rng.integers(1, len(body))) if len(body) > 1 else len(body)
            body.insert(pos, QUESTION_FILLERS[int(rng.integers(len(QUESTION_FILLERS)))])
        prefix = QUESTION_PREFIXES[int(rng.integers(len(QUESTION_PREFIXES)))]
        out.append(Question(f"{prefix} {' '.join(body)}?", p))
    return out
