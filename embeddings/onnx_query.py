"""A cheap inference path for search queries: the model exported to ONNX, run by ONNX Runtime.

A query is one short text; torch pays a fixed Python/dispatch cost per call that dominates it. Engines
(``HUITONG_QUERY_ENGINE``):

* ``onnx`` (the default): the encoder exported with eager attention, then ONNX Runtime's transformer
  optimizer: each layer's attention (Q/K/V projections, scores, softmax, weighted sum) is one Attention kernel,
  residual + layer norm and bias + GELU are fused too (123 nodes where the SDPA export's optimized graph has
  599: transformers 5 exports SDPA with a NaN guard the optimizer does not recognise). fp32 throughout: cosine
  to the plain export's vector 1.0 on all 450 bench queries, so rankings and counts do not change. In one run of
  bench/query_engines.py (2 threads, load 5.5-6.9) p50 24.4 ms against the former SDPA-fused file's 27.1 on
  CMRC's 17-token queries, 32.4 against 35.3 on Cranfield's 32-token ones.
* ``onnx-ffn-int8``: the SDPA export after the optimizer, with int8 weights in the feed-forward MatMuls only
  (two thirds of the encoder's multiply-adds; attention stays fp32). Opt-in: its per-tensor activation
  quantisation costs 0.0175 dense nDCG@10 on Cranfield. Int8 blocks of 32 with block-quantised activations
  (MatMulNBits) keep cosine 0.99995 but are slower than fp32 on this AVX2 machine (bench/query_engines.py).
* ``onnx-int8``: int8 weights in every MatMul, activations quantised dynamically: faster still, but the
  drift moves borderline documents across the similarity floor (bench/search_quality.py: on CMRC 2018
  dense-only nDCG@10 0.928 against torch's 0.962, hybrid 0.985 against 0.990); opt-in.

bench/query_engines.py compares them (latency quiet and under a CPU-burning load, nDCG@10 against fp32).
Documents keep the fp32 torch path: their vectors are stored, and every query is compared with them.
The export runs once per model folder, at setup (or by the first process that asks), under a file
lock, into ``<folder>/onnx/``; without it queries use torch.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

# One file per variant; each is derived from the one named second (the exports from the model itself).
VARIANTS: dict[str, tuple[str, str | None]] = {
    "fp32": ("query-fp32.onnx", None),
    "fused": ("query-fp32-fused.onnx", "fp32"),  # ONNX Runtime's transformer optimizer: fused layer norms, GELU
    "ffn-int8": ("query-ffn-int8.onnx", "fused"),  # int8 weights in the feed-forward MatMuls only
    "int8": ("query-int8.onnx", "fp32"),  # int8 weights in every MatMul
    "eager": ("query-eager.onnx", None),  # eager attention: a pattern the optimizer fuses into one Attention kernel
    "eager-fused": ("query-eager-fused.onnx", "eager"),
}
ENGINE_VARIANTS = {"onnx": "eager-fused", "onnx-ffn-int8": "ffn-int8", "onnx-int8": "int8"}  # HUITONG_QUERY_ENGINE
ENGINES = ("torch", *ENGINE_VARIANTS)
OPSET = 17
AUTO_THREADS_CAP = 4  # a query is ~20 tokens: more threads than this only add synchronisation (not measured above 2)


def query_threads(configured: int, cores: int | None = None) -> int:
    """ONNX Runtime threads for one query: ``configured`` if set (> 0), else the machine's cores up to
    ``AUTO_THREADS_CAP``. With spinning off (see QueryEncoder) an extra thread that waits for a busy core sleeps
    instead of burning the core the other thread needs."""
    if configured > 0:
        return configured
    return max(1, min(AUTO_THREADS_CAP, cores or os.cpu_count() or 1))


def variant_path(folder: Path, variant: str) -> Path:
    return Path(folder) / "onnx" / VARIANTS[variant][0]


def query_model_path(folder: Path, engine: str = "onnx") -> Path:
    return variant_path(folder, ENGINE_VARIANTS[engine])


def ensure_query_model(folder: Path, engine: str = "onnx") -> Path:
    """Export (then fuse or quantise, as the engine needs) the folder's encoder once; a lock keeps two processes
    from both doing it. The export reproduces mean pooling and normalisation, as the bundled model's folder has
    them."""
    return ensure_variant(Path(folder), ENGINE_VARIANTS[engine])


def ensure_variant(folder: Path, variant: str) -> Path:
    target = variant_path(folder, variant)
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".export.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        chain = [variant]
        while VARIANTS[chain[-1]][1] is not None and not variant_path(folder, chain[-1]).is_file():
            chain.append(str(VARIANTS[chain[-1]][1]))
        for name in reversed(chain):
            if not variant_path(folder, name).is_file():
                _build(folder, name)
    return target


def _build(folder: Path, variant: str) -> None:
    """Write one variant next to its source, published by an atomic rename (readers never see half a file)."""
    target = variant_path(folder, variant)
    work = target.parent / f".tmp-{uuid.uuid4().hex[:8]}"
    work.mkdir()
    try:
        out = work / target.name
        source = VARIANTS[variant][1]
        if source is None:
            _export(folder, out, eager=variant == "eager")
        else:
            _STEPS[variant](variant_path(folder, source), out, folder)
        os.replace(out, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _config(folder: Path) -> dict[str, int]:
    return json.loads((Path(folder) / "config.json").read_text(encoding="utf-8"))


def _export(folder: Path, out: Path, eager: bool = False) -> None:
    """``eager``: transformers' eager attention (matmul, scale, mask, softmax, matmul), a pattern ONNX Runtime's
    optimizer fuses into one Attention kernel; the default (SDPA) exports with a NaN guard it does not know."""
    import torch
    from transformers import AutoModel

    extra: dict[str, Any] = {"attn_implementation": "eager"} if eager else {}
    model = AutoModel.from_pretrained(str(folder), dtype=torch.float32, **extra)
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


def fuse(source: Path, out: Path, folder: Path) -> None:
    """ONNX Runtime's transformer optimizer (model type "bert", which covers XLM-RoBERTa): residual + layer norm
    and bias + GELU as single kernels, and, on the eager export, attention (Q/K/V projections, scores, softmax,
    weighted sum) as one. Same arithmetic up to float rounding."""
    from onnxruntime.transformers.optimizer import optimize_model

    config = _config(folder)
    model = optimize_model(str(source), model_type="bert", num_heads=int(config["num_attention_heads"]),
                           hidden_size=int(config["hidden_size"]))
    model.save_model_to_file(str(out))


def weight_matmuls(source: Path, folder: Path, parts: tuple[str, ...] = ("up", "down"),
                   skip_layers: tuple[int, ...] = ()) -> list[str]:
    """MatMuls by the shape of their weight: ``up`` (hidden -> FFN width), ``down`` (FFN width -> hidden),
    ``out`` (attention's output projection, hidden -> hidden); ``skip_layers``: those encoder layers (by the
    ``layer.N`` in the node's name; negative counts from the last) keep fp32."""
    import onnx

    config = _config(folder)
    hidden, width, layers = (int(config[k]) for k in ("hidden_size", "intermediate_size", "num_hidden_layers"))
    shapes = {"up": (hidden, width), "down": (width, hidden), "out": (hidden, hidden)}
    wanted = {shapes[part] for part in parts}
    skipped = {f"layer.{n % layers}/" for n in skip_layers}
    model = onnx.load(str(source), load_external_data=False)
    weights = {init.name: tuple(init.dims) for init in model.graph.initializer}
    return [node.name for node in model.graph.node if node.op_type == "MatMul"
            and weights.get(node.input[1]) in wanted and not any(s in node.name for s in skipped)]


def ffn_matmuls(source: Path, folder: Path) -> list[str]:
    """The feed-forward MatMuls: those whose weight has the model's intermediate (FFN) width on one side."""
    return weight_matmuls(source, folder)


def quantise(source: Path, out: Path, nodes: list[str] | None = None, reduce_range: bool = False) -> None:
    """int8 weights per output channel, activations quantised at run time; ``nodes``: only these MatMuls.
    MatMul weights only: the embedding table is a lookup (quantising it saves disk, not time)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # fused kernels are of a domain shape inference does not know: their outputs are fp32, said here
    quantize_dynamic(str(source), str(out), weight_type=QuantType.QInt8, per_channel=True, reduce_range=reduce_range,
                     op_types_to_quantize=["MatMul"], nodes_to_quantize=nodes,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})


def _ffn_int8(source: Path, out: Path, folder: Path) -> None:
    quantise(source, out, ffn_matmuls(source, folder))


_STEPS: dict[str, Callable[[Path, Path, Path], None]] = {
    "fused": fuse, "eager-fused": fuse, "ffn-int8": _ffn_int8,
    "int8": lambda source, out, folder: quantise(source, out),
}


class QueryEncoder:
    """One query at a time through ONNX Runtime, on ``threads`` threads that sleep rather than spin when idle.

    Spinning (ONNX Runtime's default) keeps a finished thread busy-waiting for the next parallel section: on a
    machine whose cores are all taken (ingestion, another query) it burns the core the other thread needs, and a
    2-thread query collapses. ``path``: another file of the same model (benches compare variants).

    ``tokenize``: the token ids the document side uses. It must be the same tokenizer as the documents': the
    folder's ``tokenizer.json`` normalises some characters differently from the tokenizer sentence-transformers
    loads (full-width "？" is a known token in one and ``<unk>`` in the other: cosine 0.966 to the torch vector
    of the same query), and a query is only comparable with documents tokenised the same way."""

    def __init__(
        self, folder: Path, max_tokens: int, threads: int = 1, engine: str = "onnx",
        tokenize: Callable[[str], list[int]] | None = None, *, path: Path | None = None, spinning: bool = False,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.engine, self.threads = engine, threads
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        spin = "1" if spinning else "0"
        options.add_session_config_entry("session.intra_op.allow_spinning", spin)
        options.add_session_config_entry("session.inter_op.allow_spinning", spin)
        self._session = ort.InferenceSession(str(path or query_model_path(folder, engine)), options,
                                             providers=["CPUExecutionProvider"])
        self._tokenizer = Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_tokens)
        self._tokenizer.no_padding()
        self._tokenize = tokenize or (lambda text: self._tokenizer.encode(text).ids)

    def embed(self, text: str) -> np.ndarray:
        ids = np.asarray([self._tokenize(text)], dtype=np.int64)
        vector = self._session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0][0]
        return (vector / max(float(np.linalg.norm(vector)), 1e-12)).astype(np.float32)
