"""The query encoder: threads set for the machine, idle threads that sleep, and the feed-forward int8 variant
quantising exactly the feed-forward MatMuls."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embeddings import onnx_query
from embeddings.embedder import DEFAULT_MODEL, Embedder, get_embedder, resolve_model
from embeddings.onnx_query import AUTO_THREADS_CAP, query_threads
from settings import get_settings


@pytest.fixture(scope="module")
def e5() -> Embedder:
    return get_embedder(DEFAULT_MODEL)


def test_query_threads_follow_the_machine_unless_set() -> None:
    assert query_threads(0, cores=1) == 1
    assert query_threads(0, cores=2) == 2
    assert query_threads(0, cores=64) == AUTO_THREADS_CAP
    assert query_threads(3, cores=2) == 3  # an administrator's choice wins, even above the cores


def test_the_query_session_uses_the_configured_threads_and_does_not_spin(e5: Embedder) -> None:
    encoder = e5.query_encoder
    assert encoder is not None
    options = encoder._session.get_session_options()
    assert options.intra_op_num_threads == encoder.threads == query_threads(get_settings().query_threads)
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_the_ffn_int8_variant_quantises_the_feed_forward_matmuls_only() -> None:
    import onnx

    folder = Path(resolve_model(DEFAULT_MODEL))
    layers = json.loads((folder / "config.json").read_text(encoding="utf-8"))["num_hidden_layers"]
    fused = onnx_query.ensure_variant(folder, "fused")
    assert len(onnx_query.ffn_matmuls(fused, folder)) == 2 * layers  # intermediate and output dense per layer
    before = [node.op_type for node in onnx.load(str(fused), load_external_data=False).graph.node]
    quantised = onnx.load(str(onnx_query.ensure_variant(folder, "ffn-int8")), load_external_data=False)
    ops = [node.op_type for node in quantised.graph.node]
    integer = sum(op in ("MatMulInteger", "DynamicQuantizeMatMul", "MatMulIntegerToFloat") for op in ops)
    assert integer == 2 * layers
    assert ops.count("MatMul") == before.count("MatMul") - 2 * layers  # attention's MatMuls stay fp32


def test_the_default_engine_runs_each_layers_attention_as_one_fused_kernel() -> None:
    """The eager-attention export lets ONNX Runtime's optimizer fuse attention (projections, scores, softmax,
    weighted sum): no Softmax or score MatMul is left, and every layer's residual + layer norm is fused too."""
    import onnx

    folder = Path(resolve_model(DEFAULT_MODEL))
    layers = json.loads((folder / "config.json").read_text(encoding="utf-8"))["num_hidden_layers"]
    assert onnx_query.ENGINE_VARIANTS["onnx"] == "eager-fused"
    ops = [node.op_type for node in onnx.load(str(onnx_query.ensure_query_model(folder, "onnx")),
                                             load_external_data=False).graph.node]
    assert ops.count("Attention") == layers
    assert "Softmax" not in ops
    assert ops.count("SkipLayerNormalization") == 2 * layers
    assert ops.count("MatMul") == 3 * layers  # attention's output projection and the two feed-forward ones
