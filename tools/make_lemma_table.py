"""Regenerate bot/data/irregular_forms.txt (a development-time tool, not a run-time dependency).

Stemming joins regular forms (discussed ~ discuss) but not irregular ones (met ~ meet,
bought ~ buy, spoke ~ speak, children ~ child). This writes, from `lemminflect`'s English
lemma and inflection tables, one line per lemma whose forms do not all share one stem: the
lemma first, then its other forms. The search adds the stems of a question word's group, so
"when did they meet" finds "met" without loading lemminflect at run time.

    pip install lemminflect wordfreq locate
    PYTHONPATH=. python tools/make_lemma_table.py > bot/data/irregular_forms.txt
"""

import re

import wordfreq
from lemminflect import getAllInflections, getAllLemmas

from bot.analysis import analyze_word

print("# lemma and its inflected forms whose stems differ (lemminflect 0.2.3)")
seen: set[str] = set()
for word in wordfreq.top_n_list("en", 60_000):
    if not re.fullmatch(r"[a-z]+", word):
        continue
    for lemmas in getAllLemmas(word).values():
        for lemma in lemmas:
            if lemma in seen or not re.fullmatch(r"[a-z]+", lemma):
                continue
            seen.add(lemma)
            forms = {f for fs in getAllInflections(lemma).values() for f in fs if f.isalpha()}
            forms.discard(lemma)
            stems = {analyze_word(f) for f in forms | {lemma}}
            if len({s for s in stems if s}) > 1:
                print(" ".join([lemma, *sorted(forms)]))
