"""The exported model stands alone: the README's lines, run where hpo cannot be imported.

A real study (Fashion-MNIST when this machine has it, else scikit-learn's digits) is trained,
exported with `hpo export --onnx`, and then the two code blocks of README.md's section "Use the
model without hpo" run, exactly as written there, in `python -I` with hpo blocked, on the real
test images as a user has them (uint8 / 255). Each must score what `hpo evaluate` reports.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import pytest

from hpo import data
from tests.export.conftest import TINY_SPACE, hpo_ok, study_env

# A worker trains a real study and the README's lines run in processes of their own: the full tier.
pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## Use the model without hpo"

# Prepended to the README's lines: a Python that cannot import hpo, holding the user's pixels.
PRELUDE = '''
import sys

class _NoHpo:
    def find_spec(self, name, path=None, target=None):
        if name == "hpo" or name.startswith("hpo."):
            raise ImportError(f"{name} is blocked: this program must run without hpo")
        return None

sys.meta_path.insert(0, _NoHpo())
try:
    import hpo  # noqa: F401
except ImportError:
    pass
else:
    raise SystemExit("hpo is importable, the test proves nothing")

import numpy as np
pixels = (np.load("images.npy").astype(np.float32) / 255.0)
'''
EPILOGUE = '''
import json
labels = np.load("labels.npy")
hits = sum(classes[int(i)] == classes[int(y)] for i, y in zip(np.asarray(logits).argmax(axis=1), labels))
assert predicted[:3] == [classes[int(i)] for i in np.asarray(logits)[:3].argmax(axis=1)]
assert not [m for m in sys.modules if m == "hpo" or m.startswith("hpo.")]
print(json.dumps({"accuracy": hits / len(labels), "n": len(labels), "classes": classes}))
'''


def readme_block(runtime: str) -> str:
    """The code block after ``<!-- standalone: RUNTIME -->`` in the README's section."""
    text = README.read_text(encoding="utf-8")
    assert SECTION in text, f"README.md has no section {SECTION!r}"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    match = re.search(rf"<!-- standalone: {re.escape(runtime)} -->\s*```python\n(.*?)```", section, re.S)
    assert match, f"README.md's {SECTION!r} has no python block marked 'standalone: {runtime}'"
    return match.group(1)


@dataclass(frozen=True)
class Standalone:
    folder: Path
    env: dict[str, str]
    dataset: str
    export_stdout: str


def _dataset() -> str:
    try:
        data.load("fashion-mnist")
    except Exception:  # not on this machine: the offline fallback, as the demo does
        return "digits"
    return "fashion-mnist"


@pytest.fixture(scope="module")
def standalone(tmp_path_factory: pytest.TempPathFactory) -> Standalone:
    folder = tmp_path_factory.mktemp("standalone")
    env = study_env(folder)
    dataset = _dataset()
    hpo_ok("study", "create", "alone", "--space", TINY_SPACE, "--dataset", dataset, "--trials", "1", "--epochs", "2",
           "--pruner", "none", "--train-subset", "3000", "--val-subset", "500", env=env)
    hpo_ok("worker", "alone", env=env)
    stdout = hpo_ok("export", "alone", "--out", str(folder / "best.pt"), "--onnx", str(folder / "best.onnx"),
                    "--latency-repeats", "3", env=env)
    loaded = data.load(dataset)
    np.save(folder / "images.npy", loaded.test_x.numpy())  # uint8 (N, C, H, W): the images a user has
    np.save(folder / "labels.npy", loaded.test_y.numpy())
    return Standalone(folder, env, dataset, stdout)


def run_without_hpo(folder: Path, code: str) -> dict[str, object]:
    result = subprocess.run([sys.executable, "-I", "-c", PRELUDE + code + EPILOGUE], cwd=folder,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def evaluate(standalone: Standalone, model: str) -> dict[str, object]:
    return json.loads(hpo_ok("evaluate", str(standalone.folder / model), "--json", env=standalone.env))


@pytest.mark.parametrize(("runtime", "model"), [("onnxruntime", "best.onnx"), ("torch", "best.pt2")])
def test_readme_lines_score_what_hpo_evaluate_reports(standalone: Standalone, runtime: str, model: str) -> None:
    found = run_without_hpo(standalone.folder, readme_block(runtime))
    reported = evaluate(standalone, model if model.endswith(".onnx") else "best.pt")
    assert found["n"] == reported["n"]
    assert found["classes"] == reported["classes"]
    assert found["accuracy"] == pytest.approx(reported["metrics"]["accuracy"], abs=1e-12)
    assert float(found["accuracy"]) > 0.3  # 3x chance (10 classes): normalization was applied once, not twice


def test_onnx_graph_takes_pixels_and_says_so(standalone: Standalone) -> None:
    proto = onnx.load_model(str(standalone.folder / "best.onnx"))
    assert [i.name for i in proto.graph.input] == ["images"]
    props = {p.key: json.loads(p.value) for p in proto.metadata_props}
    contract = props["input"]
    assert contract["range"] == [0.0, 1.0] and contract["layout"] == "NCHW" and contract["normalized_in_graph"]
    assert props["hpo.meta"]["input"] == contract
    parity = props["hpo.parity"]
    assert parity["split"] == "test" and parity["max_abs_diff"] <= 1e-4
    # The first operations normalize: the graph no longer starts with the convolution.
    first_ops = [n.op_type for n in proto.graph.node[:4]]
    assert "Sub" in first_ops and "Div" in first_ops, first_ops


def test_export_writes_the_program_and_says_how_to_load_it(standalone: Standalone) -> None:
    assert (standalone.folder / "best.pt2").is_file()
    assert "torch.export.load(PATH).module()" in standalone.export_stdout
    assert "'images': float32 [0, 1] pixels" in standalone.export_stdout
