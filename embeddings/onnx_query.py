"""A cheap inference path for search queries: the model exported to ONNX, run by ONNX Runtime.

A query is one short text; torch pays a fixed Python/dispatch cost per call that dominates it. Two engines:

* ``onnx`` (the default): the fp32 encoder with ONNX Runtime's graph optimisations (fused attention, layer
  norm and GELU kernels). The same arithmetic as torch up to float rounding (cosine to torch's vector
  > 0.9999), so rankings and counts do not change, at a fraction of torch's time per query.
* ``onnx-int8``: int8 weights per output channel, activations quantised dynamically: faster still, but the
  drift moves borderline documents across the similarity floor (bench/search_quality.py: on CMRC 2018
  dense-only nDCG@10 0.928 against torch's 0.962, hybrid 0.985 against 0.990); opt-in.

Documents keep the fp32 torch path: their vectors are stored, and every query is compared with them.
The export runs once per model folder, at setup (or by the first process that asks), under a file
lock, into ``<folder>/onnx/``; without it queries use torch.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np

FILES = {"onnx": Path("onnx") / "query-fp32.onnx", "onnx-int8": Path("onnx") / "query-int8.onnx"}
ENGINES = ("torch", *FILES)
OPSET = 17


def query_model_path(folder: Path, engine: str = "onnx-int8") -> Path:
    return Path(folder) / FILES[engine]


def ensure_query_model(folder: Path, engine: str = "onnx-int8") -> Path:
    """Export (and for int8 quantise) the folder's encoder once (a lock keeps two processes from both doing it).

    The export reproduces mean pooling and normalisation, as the bundled model's folder has them."""
    target = query_model_path(folder, engine)
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".export.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.is_file():
            return target
        work = target.parent / f".tmp-{uuid.uuid4().hex[:8]}"
        work.mkdir()
        try:
            fp32 = query_model_path(folder, "onnx")
            if not fp32.is_file():
                _export(Path(folder), work / "fp32.onnx")
                os.replace(work / "fp32.onnx", fp32)
            if engine == "onnx-int8":
                _quantise(fp32, work / "int8.onnx")
                os.replace(work / "int8.onnx", target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return target


def _export(folder: Path, out: Path) -> None:
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(folder), dtype=torch.float32)
    model.eval()

    class MeanPooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    ids = torch.tensor([[0, 10, 11, 2]], dtype=torch.long)
    with torch.no_grad():
        torch.onnx.export(
            MeanPooled(), (ids, torch.ones_like(ids)), str(out), input_names=["input_ids", "attention_mask"],
            output_names=["embedding"], opset_version=OPSET, dynamo=False,
            dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
                          "embedding": {0: "batch"}},
        )


def _quantise(source: Path, out: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # MatMul weights only: the embedding table is a lookup (quantising it saves disk, not time)
    quantize_dynamic(str(source), str(out), weight_type=QuantType.QInt8, per_channel=True,
                     op_types_to_quantize=["MatMul"])


class QueryEncoder:
    """One query at a time through ONNX Runtime, on ``threads`` threads.

    ``tokenize``: the token ids the document side uses. It must be the same tokenizer as the documents': the
    folder's ``tokenizer.json`` normalises some characters differently from the tokenizer sentence-transformers
    loads (full-width "？" is a known token in one and ``<unk>`` in the other: cosine 0.966 to the torch vector
    of the same query), and a query is only comparable with documents tokenised the same way."""

    def __init__(
        self, folder: Path, max_tokens: int, threads: int = 1, engine: str = "onnx-int8",
        tokenize: Callable[[str], list[int]] | None = None,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.engine = engine
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(str(query_model_path(folder, engine)), options,
                                             providers=["CPUExecutionProvider"])
        self._tokenizer = Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_tokens)
        self._tokenizer.no_padding()
        self._tokenize = tokenize or (lambda text: self._tokenizer.encode(text).ids)

    def embed(self, text: str) -> np.ndarray:
        ids = np.asarray([self._tokenize(text)], dtype=np.int64)
        vector = self._session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0][0]
        return (vector / max(float(np.linalg.norm(vector)), 1e-12)).astype(np.float32)
