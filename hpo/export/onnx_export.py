"""`hpo export --onnx`: graph (pixels in, normalization inside) -> parity check on the test
split's [0, 1] pixels -> file with its description."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from torch import nn

from hpo.export.evaluate import split_for
from hpo.export.onnx_io import CLASSES_KEY, INPUT_KEY, META_KEY, PARITY_KEY, make_session, onnx_meta, run_session, save_proto, set_metadata, to_onnx_proto
from hpo.export.standalone import input_contract, with_normalization
from hpo.export.parity import Parity, measure_parity, require_parity
from hpo.training.loop import predict_logits

if TYPE_CHECKING:
    import onnxruntime


def export_verified_onnx(
    model: nn.Module, meta: dict[str, Any], path: str | os.PathLike[str]
) -> tuple[Parity, onnxruntime.InferenceSession]:
    """Export ``model`` to ``path`` only if ONNX Runtime matches PyTorch on the whole test split.

    The graph takes [0, 1] pixels and normalizes them as in training; parity is measured on
    the test split's pixels, and stored in the file (metadata ``hpo.parity``) beside its
    description. Returns the parity and the verified session (for latency measurements).
    """
    wrapped = with_normalization(model, meta)
    proto = to_onnx_proto(wrapped, meta["input_shape"])
    session = make_session(proto.SerializeToString())
    dataset, test = split_for(meta, None, "test")
    parity = measure_parity(predict_logits(wrapped, test.x), run_session(session, test.x), dataset, "test")
    require_parity(parity, f"the ONNX export for {os.fspath(path)!r}")
    contract = input_contract(meta)
    set_metadata(proto, {META_KEY: {**onnx_meta(meta), "input": contract}, PARITY_KEY: parity.to_dict(),
                         CLASSES_KEY: list(meta["classes"]), INPUT_KEY: contract})
    proto.producer_name, proto.doc_string = "hpo", f"hpo model {meta.get('model')} for {meta.get('dataset')}"
    save_proto(proto, path)
    return parity, session
