"""Regenerate bot/data/english_zipf.tsv (a development-time tool, not a run-time dependency).

The table gives the general-English frequency of common words on the Zipf scale (log10 of
occurrences per billion words), from the `wordfreq` package by Robyn Speer (data: CC BY-SA 4.0).
The search uses it as a background prior: words common in all English ("use", "name", "today")
carry less of a question's meaning than rare ones ("carbonara", "Chinook") when deciding whether
a passage answers the question.

    python -m venv /tmp/wf && /tmp/wf/bin/pip install wordfreq==3.1.1
    /tmp/wf/bin/python tools/make_english_zipf.py > bot/data/english_zipf.tsv
"""

import re

from wordfreq import top_n_list, zipf_frequency

print("# word\tzipf*10 (wordfreq 3.1.1, English, CC BY-SA 4.0); words with zipf >= 3.0")
for word in top_n_list("en", 80_000):
    if not re.fullmatch(r"[a-z][a-z'-]*", word):
        continue
    z = zipf_frequency(word, "en")
    if z < 3.0:
        break
    print(f"{word}\t{round(z * 10)}")
