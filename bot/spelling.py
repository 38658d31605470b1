"""Spelling correction of question words against the corpus vocabulary.

A question word that is neither a corpus word nor a common English word (``lexicon.zipf`` at
least :data:`COMMON_ZIPF`, about the 20,000 most common words) is read as the corpus word
closest to it: optimal-string-alignment distance 1 for words of up to five letters, else up to 2;
the smaller distance wins, then the word more passages use. So ``jaishankr`` -> jaishankar,
``inovation`` -> innovation, ``COMCASSA`` -> comcasa, while ``signed`` or ``china`` are never
"corrected" into a corpus word.

Candidates come from a symmetric-delete index (SymSpell's idea, one delete on each side): the
keys are CRC32 hashes of each corpus word and of the word with any one letter deleted, built
with the index, saved as sorted arrays and memory-mapped. A question word looks up its own
deletes (at most ``len + 1`` binary searches) and checks at most :data:`MAX_CANDIDATES`
candidates with rapidfuzz's distance, whatever the size of the corpus. One delete per side
finds every word within one edit and most within two (two substitutions need three deletes).
"""

from __future__ import annotations

import zlib
from array import array
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from rapidfuzz.distance import OSA

from .analysis import _native

MIN_LEN = 3  # shorter words are never corrected
MAX_LEN = 24
MAX_WORDS = 200_000  # the most used corpus words; bounds the index at any corpus size
MAX_CANDIDATES = 64
COMMON_ZIPF = 3.3
MIN_PREFIX = 4  # clipped words shorter than this are not completed
MAX_COMPLETIONS = 6


def _keys(word: str) -> set[int]:
    keys = {zlib.crc32(word.encode("utf-8", "surrogatepass"))}
    for i in range(len(word)):
        keys.add(zlib.crc32((word[:i] + word[i + 1 :]).encode("utf-8", "surrogatepass")))
    return keys


def spellable(word: str) -> bool:
    return MIN_LEN <= len(word) <= MAX_LEN and word.isalpha()


class Lines(Sequence[str]):
    """The lines of a UTF-8 text, each decoded when asked for: a loaded index holds no Python
    object per word (or per article)."""

    def __init__(self, blob: bytes) -> None:
        blob.decode("utf-8")  # a damaged file fails here, at load, not in a question
        self._blob = blob
        ends = np.flatnonzero(np.frombuffer(blob, dtype=np.uint8) == ord("\n"))
        ends = np.append(ends, len(blob)) if blob else ends
        self._ends = ends.astype(np.int32 if len(blob) < 1 << 31 else np.int64)
        self._starts = np.zeros_like(self._ends)
        self._starts[1:] = self._ends[:-1] + 1

    def __len__(self) -> int:
        return int(self._starts.shape[0])

    def __getitem__(self, i: int) -> str:  # type: ignore[override]
        return self._blob[int(self._starts[i]) : int(self._ends[i])].decode("utf-8")


class SpellIndex:
    """Corpus words (lower case) and their symmetric-delete keys."""

    FILES = (
        "spell_keys.npy",
        "spell_vals.npy",
        "spell_freq.npy",
        "spell_order.npy",
        "spell_words.txt",
    )

    def __init__(
        self,
        words: Sequence[str],
        freq: np.ndarray,
        keys: np.ndarray,
        vals: np.ndarray,
        order: np.ndarray | None = None,
    ) -> None:
        self.words = words
        self.freq = freq
        self.keys = keys
        self.vals = vals
        # word numbers in alphabetical order (for completing clipped words: "intel")
        self.order = (
            order
            if order is not None
            else np.asarray(sorted(range(len(words)), key=words.__getitem__), dtype=np.int32)
        )

    @classmethod
    def build(cls, counts: Iterable[tuple[str, int]]) -> SpellIndex:
        """From (word, how many passages use it); only the most used words are kept."""
        pairs = list(counts)
        lower = list(map(str.lower, (w for w, _ in pairs)))
        n = np.fromiter((c for _, c in pairs), dtype=np.int64, count=len(pairs))
        # each lower-case word's largest count: in ascending order of counts, the last one stays
        by_count = np.argsort(n, kind="stable").tolist()
        best = dict(zip([lower[i] for i in by_count], n[by_count].tolist(), strict=True))
        best = {w: c for w, c in best.items() if spellable(w)}
        # most used first, then alphabetical: a string sort, then a stable sort of the counts
        alphabetical = sorted(best)
        counts_of = np.fromiter(map(best.__getitem__, alphabetical), np.int64, len(alphabetical))
        keep = np.argsort(-counts_of, kind="stable")[:MAX_WORDS]
        words = [alphabetical[i] for i in keep.tolist()]
        freq = counts_of[keep].astype(np.int32)
        got = _native.delete_keys(words) if _native is not None else None
        if got is not None:  # compiled (ASCII words): the same keys
            flat, n_keys = got
        else:
            flat = array("q")  # every word's keys, one word after another (no Python int kept)
            n_keys = array("q")
            for w in words:
                ks = _keys(w)
                flat.extend(ks)
                n_keys.append(len(ks))
        keys = np.frombuffer(flat, dtype=np.int64)
        vals = np.repeat(np.arange(len(words), dtype=np.int64), np.frombuffer(n_keys, np.int64))
        order = np.lexsort((vals, keys))
        return cls(words, freq, keys[order].astype(np.uint32), vals[order].astype(np.int32))

    def save(self, folder: Path) -> None:
        np.save(folder / "spell_keys.npy", self.keys, allow_pickle=False)
        np.save(folder / "spell_vals.npy", self.vals, allow_pickle=False)
        np.save(folder / "spell_freq.npy", self.freq, allow_pickle=False)
        np.save(folder / "spell_order.npy", self.order, allow_pickle=False)
        (folder / "spell_words.txt").write_text("\n".join(self.words), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> SpellIndex:
        words = Lines((folder / "spell_words.txt").read_bytes())
        keys = np.load(folder / "spell_keys.npy", mmap_mode="r", allow_pickle=False)
        vals = np.load(folder / "spell_vals.npy", mmap_mode="r", allow_pickle=False)
        freq = np.load(folder / "spell_freq.npy", allow_pickle=False)
        order = np.load(folder / "spell_order.npy", allow_pickle=False)
        if keys.shape != vals.shape or freq.shape[0] != len(words) or order.size != len(words):
            raise ValueError("spelling index does not match its word list")
        for ids in (vals, order):
            if ids.size and (int(ids.min()) < 0 or int(ids.max()) >= len(words)):
                raise ValueError("spelling index points outside its word list")
        return cls(words, freq, keys.view(np.ndarray), vals.view(np.ndarray), order)

    def completions(self, prefix: str, limit: int = MAX_COMPLETIONS) -> list[str]:
        """Corpus words that start with ``prefix`` (a clipped word: "intel", "tech"), most
        used first; none when more than ``limit`` do (the prefix says too little)."""
        p = prefix.lower()
        if len(p) < MIN_PREFIX or not p.isalpha():
            return []
        words, order = self.words, self.order
        lo, hi = 0, len(order)
        while lo < hi:  # first word >= prefix, in alphabetical order
            mid = (lo + hi) // 2
            if words[int(order[mid])] < p:
                lo = mid + 1
            else:
                hi = mid
        out: list[int] = []
        for k in range(lo, min(lo + limit + 1, len(order))):
            i = int(order[k])
            if not words[i].startswith(p):
                break
            out.append(i)
        if not out or len(out) > limit:
            return []
        return [words[i] for i in sorted(out, key=lambda i: -int(self.freq[i]))]

    def correct(self, word: str) -> str | None:
        """The corpus word ``word`` most likely misspells (``None``: no close word)."""
        w = word.lower()
        if not spellable(w) or not self.words:
            return None
        limit = 1 if len(w) <= 5 else 2
        cands: set[int] = set()
        keys = self.keys
        for k in _keys(w):
            a = int(np.searchsorted(keys, k, "left"))
            b = int(np.searchsorted(keys, k, "right"))
            cands.update(self.vals[a:b].tolist())
            if len(cands) >= MAX_CANDIDATES:
                break
        best: tuple[int, int, str] | None = None
        for i in cands:
            cand = self.words[i]
            if cand == w:
                return None  # a corpus word is not a typo
            d = OSA.distance(w, cand, score_cutoff=limit)
            if d > limit:
                continue
            key = (d, -int(self.freq[i]), cand)
            if best is None or key < best:
                best = key
        return best[2] if best else None
