"""`hpo export --onnx`: graph -> parity check on the test split -> file with its description."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from torch import nn

from hpo.export.evaluate import split_for
from hpo.export.onnx_io import META_KEY, PARITY_KEY, make_session, onnx_meta, run_session, save_proto, set_metadata, to_onnx_proto
from hpo.export.parity import Parity, measure_parity, require_parity
from hpo.training.loop import predict_logits

if TYPE_CHECKING:
    import onnxruntime


def export_verified_onnx(
    model: nn.Module, meta: dict[str, Any], path: str | os.PathLike[str]
) -> tuple[Parity, onnxruntime.InferenceSession]:
    """Export ``model`` to ``path`` only if ONNX Runtime matches PyTorch on the whole test split.

    The parity numbers are stored in the file (metadata ``hpo.parity``) beside its description.
    Returns the parity and the verified session (for latency measurements).
    """
    proto = to_onnx_proto(model, meta["input_shape"])
    session = make_session(proto.SerializeToString())
    dataset, test = split_for(meta, None, "test")
    model = model.to("cpu").eval()
    parity = measure_parity(predict_logits(model, test.x), run_session(session, test.x), dataset, "test")
    require_parity(parity, f"the ONNX export for {os.fspath(path)!r}")
    set_metadata(proto, {META_KEY: onnx_meta(meta), PARITY_KEY: parity.to_dict()})
    proto.producer_name, proto.doc_string = "hpo", f"hpo model {meta.get('model')} for {meta.get('dataset')}"
    save_proto(proto, path)
    return parity, session
