"""``imagefolder:PATH``: the layouts it reads (Tiny ImageNet's own included) and the folders it refuses.

Every tree is made of real image files (JPEG and PNG written by PIL) in a temporary folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import optuna
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from hpo import data
from hpo.cli import main
from hpo.data.imagefolder import inspect_layout
from hpo.data.registry import canonical_name
from hpo.errors import HpoError, UsageError

WNIDS = ["n01443537", "n01629819", "n01641577"]


def write_image(path: Path, value: int, size: int = 16, fmt: str = "JPEG") -> None:
    """A flat image of one grey level, so a test can tell which file a decoded image came from."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size, size, 3), value, dtype=np.uint8)).save(path, fmt)


def tiny_imagenet(root: Path, per_class: int = 4, val_per_class: int = 2) -> dict[str, str]:
    """Tiny ImageNet's distributed layout; returns the val file -> wnid annotations written."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "wnids.txt").write_text("\n".join(WNIDS) + "\n")
    (root / "words.txt").write_text("\n".join(f"{w}\tthing {i}" for i, w in enumerate(WNIDS)) + "\n")
    for c, wnid in enumerate(WNIDS):
        for i in range(per_class):
            write_image(root / "train" / wnid / "images" / f"{wnid}_{i}.JPEG", 40 * c + i)
        (root / "train" / wnid / f"{wnid}_boxes.txt").write_text(f"{wnid}_0.JPEG\t0\t0\t15\t15\n")
    annotations = {}
    for i in range(val_per_class * len(WNIDS)):
        wnid = WNIDS[i % len(WNIDS)]
        write_image(root / "val" / "images" / f"val_{i}.JPEG", 200 + i)
        annotations[f"val_{i}.JPEG"] = wnid
    (root / "val" / "val_annotations.txt").write_text(
        "".join(f"{name}\t{wnid}\t0\t0\t15\t15\n" for name, wnid in annotations.items()))
    for i in range(3):  # unlabelled, as distributed
        write_image(root / "test" / "images" / f"test_{i}.JPEG", 100)
    return annotations


def test_reads_tiny_imagenet_as_distributed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    annotations = tiny_imagenet(tmp_path / "tin")
    name = f"imagefolder:{tmp_path / 'tin'}#px=8"
    data.validate_name(name)
    loaded = data.load(name)
    assert loaded.classes == tuple(WNIDS)
    assert loaded.train_x.shape == (12, 3, 8, 8) and loaded.train_y.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    # The labelled val/ is the test split; the unlabelled test/ is left out.
    assert loaded.test_x.shape == (6, 3, 8, 8)
    assert loaded.test_y.tolist() == [WNIDS.index(w) for w in annotations.values()]
    assert loaded.test_x[:, 0, 0, 0].tolist() == pytest.approx([200 + i for i in range(6)], abs=2)  # JPEG is lossy
    layout = inspect_layout(name)
    assert layout.test_from == tmp_path / "tin" / "val"


def test_a_labelled_val_beside_a_labelled_test_joins_the_training_data(tmp_path: Path) -> None:
    for split, n in (("train", 3), ("val", 2), ("test", 1)):
        for c, cls in enumerate(["cat", "dog"]):
            for i in range(n):
                write_image(tmp_path / split / cls / f"{i}.png", 10 * c + i, fmt="PNG")
    layout = inspect_layout(f"imagefolder:{tmp_path}")
    assert layout.classes == ("cat", "dog") and layout.test_from == tmp_path / "test"
    assert len(layout.train) == 10 and len(layout.test) == 2


def test_class_folders_alone_hold_out_a_fifth_with_a_fixed_seed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for c, cls in enumerate(["a", "b"]):
        for i in range(10):
            write_image(tmp_path / cls / f"{i}.jpg", 10 * c + i)
    first, second = data.load(f"imagefolder:{tmp_path}#px=4"), data.load(f"imagefolder:{tmp_path}#px=4")
    assert len(first.train_y) == 16 and len(first.test_y) == 4 and first.classes == ("a", "b")
    assert torch.equal(first.test_x, second.test_x)


def test_the_stored_name_is_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert canonical_name("imagefolder:tin") == f"imagefolder:{tmp_path / 'tin'}#px=64"
    assert canonical_name("imagefolder:~/tin", 40) == f"imagefolder:{Path.home() / 'tin'}#px=40"
    assert canonical_name("fashion-mnist") == "fashion-mnist"


def one_class(root: Path) -> None:
    write_image(root / "train" / "only" / "0.jpg", 1)


def no_images(root: Path) -> None:
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()
    (root / "a" / "notes.txt").write_text("not an image")


def broken_image(root: Path) -> None:
    write_image(root / "a" / "0.jpg", 1)
    (root / "b").mkdir()
    (root / "b" / "0.jpg").write_bytes(b"not a jpeg")


def unknown_val_label(root: Path) -> None:
    tiny_imagenet(root)
    with (root / "val" / "val_annotations.txt").open("a") as f:
        f.write("val_0.JPEG\tn99999999\t0\t0\t1\t1\n")


def held_out_class_not_in_train(root: Path) -> None:
    write_image(root / "train" / "a" / "0.jpg", 1)
    write_image(root / "train" / "b" / "0.jpg", 2)
    write_image(root / "test" / "c" / "0.jpg", 3)


BAD = {
    "empty": (lambda root: root.mkdir(), "{root} has no class folders, but a classifier needs at least 2 classes"),
    "one-class": (one_class, "{root}/train has only the class folder 'only', but a classifier needs at least 2 classes"),
    "no-images": (no_images, "class folder {root}/a has no images"),
    "unreadable-image": (broken_image, "cannot read image {root}/b/0.jpg"),
    "unknown-val-label": (unknown_val_label, "labels val_0.JPEG as 'n99999999', which is not a class folder"),
    "test-class-not-in-train": (held_out_class_not_in_train, "{root}/test/c is a class folder that {root}/train does not have"),
    "missing": (lambda root: None, "folder does not exist: {root}"),
}


@pytest.mark.parametrize("case", BAD)
def test_folders_a_classifier_cannot_learn_from_are_refused_naming_the_folder(case: str, tmp_path: Path) -> None:
    make, message = BAD[case]
    root = tmp_path / "images"
    if case != "empty" and case != "missing":
        root.mkdir()
    make(root)
    expected = message.format(root=root)
    with pytest.raises(UsageError, match=f"data set 'imagefolder:{root}': .*") as refused:
        data.validate_name(f"imagefolder:{root}")
    assert expected in str(refused.value)
    with pytest.raises(HpoError) as failed:  # a worker that loads it anyway gets the same reason
        data.load(f"imagefolder:{root}")
    assert expected in str(failed.value)


@pytest.mark.parametrize("case", ["one-class", "empty"])
def test_study_create_refuses_them_in_one_line_and_creates_nothing(case: str, tmp_path: Path) -> None:
    """Issue 17: a one-class folder trained to a meaningless val_accuracy 1.0; an empty one failed in the worker."""
    root = tmp_path / "images"
    if case == "one-class":
        root.mkdir()
    BAD[case][0](root)
    storage = f"sqlite:///{tmp_path / 'hpo.db'}"
    optuna.create_study(study_name="other", storage=storage)  # the schema, and something to leave untouched
    result = CliRunner().invoke(main, ["study", "create", "s", "--space", "cnn", "--dataset", f"imagefolder:{root}",
                                       "--trials", "2", "--storage", storage])
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1 and str(root) in result.output and "at least 2 classes" in result.output
    assert [s.study_name for s in optuna.get_all_study_summaries(storage)] == ["other"]
