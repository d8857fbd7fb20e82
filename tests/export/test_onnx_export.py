"""`hpo export --onnx`: a current opset, a dynamic batch, its description inside, parity checked."""

from __future__ import annotations

import json
import re

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

import hpo
from hpo.data import load, splits
from hpo.errors import HpoError
from hpo.export.evaluate import normalization_of
from hpo.export.onnx_io import META_KEY, OPSET, PARITY_KEY
from hpo.export.parity import MAX_ABS_DIFF, measure_parity, require_parity
from tests.export.conftest import Exported


def test_onnx_file_has_current_opset_dynamic_batch_and_metadata(exported: Exported) -> None:
    proto = onnx.load_model(str(exported.onnx))
    onnx.checker.check_model(proto)
    assert max(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")) == OPSET >= 21
    batch_dim = proto.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch_dim.dim_param and not batch_dim.HasField("dim_value")  # symbolic, not fixed
    props = {p.key: json.loads(p.value) for p in proto.metadata_props}
    meta = props[META_KEY]
    assert meta["classes"] == [str(i) for i in range(10)]
    assert meta["input_shape"] == [1, 8, 8]
    assert set(meta["normalization"]) == {"mean", "std"}
    assert meta["dataset"] == "digits" and meta["study"] == "digits"
    parity = props[PARITY_KEY]
    assert parity["split"] == "test" and parity["n"] == 359
    assert parity["max_abs_diff"] <= MAX_ABS_DIFF and parity["argmax_agreement"] >= 0.999


def test_onnxruntime_matches_pytorch_on_the_test_split_at_any_batch(exported: Exported) -> None:
    """Our own check, independent of the exporter's: the whole test split, in odd batch sizes.

    The graph takes the [0, 1] pixels a user has; the checkpoint's bare network the normalized
    images it was trained on.
    """
    model = hpo.load_model(str(exported.pt))
    data = load("digits")
    test = splits.test_split(data, normalization_of(model.hpo_meta))
    pixels = data.test_x.float() / 255.0
    session = ort.InferenceSession(str(exported.onnx), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    assert name == "images"
    for batch in (1, 7, 64, len(test)):
        onnx_logits = session.run(None, {name: pixels[:batch].numpy()})[0]
        with torch.inference_mode():
            torch_logits = model(test.x[:batch]).numpy()
        assert np.abs(onnx_logits - torch_logits).max() <= 1e-4
        assert (onnx_logits.argmax(1) == torch_logits.argmax(1)).mean() >= 0.999


def test_export_prints_parity_and_a_latency_table(exported: Exported) -> None:
    out = exported.stdout
    assert re.search(r"max \|logit difference\| \S+ \(limit 0\.0001\), argmax agreement 100\.0+% ", out), out
    header = next(line for line in out.splitlines() if line.startswith("batch"))
    assert "pytorch eager ms" in header and "onnxruntime ms" in header
    rows = {line.split()[0]: line.split() for line in out.splitlines() if re.match(r"^(1|64)\s+\d", line)}
    assert set(rows) == {"1", "64"}
    for cells in rows.values():
        assert float(cells[1]) > 0 and float(cells[2]) > 0


def test_parity_check_rejects_diverging_logits() -> None:
    reference = torch.randn(1000, 10, generator=torch.Generator().manual_seed(0))
    require_parity(measure_parity(reference, reference + 5e-5, "digits", "test"), "x.onnx")  # within the bar
    with pytest.raises(HpoError, match=r"x\.onnx does not match the PyTorch model: max \|logit difference\| 0\.001"):
        require_parity(measure_parity(reference, reference + 1e-3, "digits", "test"), "x.onnx")
    flipped = reference.clone()
    flipped[:2] = -flipped[:2]  # two predictions of 1000 change: 99.8 % agreement
    parity = measure_parity(reference, flipped, "digits", "test")
    assert parity.argmax_agreement < 0.999
    with pytest.raises(HpoError, match="argmax agreement"):
        require_parity(parity, "x.onnx")
