"""One planner for local folders and URIs (batch/plan.py): the same rules for both engines."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lowlight.batch.plan import Summary, location_str, plan_inputs
from lowlight.errors import LowlightError

pytest.importorskip("pyarrow", reason="URIs are listed through pyarrow (pip install 'lowlight[ray]')")


@pytest.fixture()
def tree(tmp_path) -> Path:
    """a.png, sub/b.png, a hidden folder and file, a text file, and an earlier output."""
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    (root / ".thumbs").mkdir()
    px = np.full((8, 8, 3), 30, np.uint8)
    for rel in ("a.png", "sub/b.png", ".thumbs/t.png", ".hidden.png", "a_enhanced.png"):
        Image.fromarray(px).save(root / rel)
    (root / "notes.txt").write_text("x")
    return root


def _names(jobs, root: str):
    return sorted((location_str(j.source)[len(root):], location_str(j.target).rsplit("/", 2)[-1]) for j in jobs)


@pytest.mark.parametrize("suffix", ["", "_enhanced"])
def test_uris_are_planned_by_the_local_rules(tree, tmp_path, suffix):
    out = tmp_path / "out"
    local = plan_inputs([str(tree)], str(out), suffix=suffix, recursive=True)
    remote = plan_inputs([f"file://{tree}"], f"file://{out}", suffix=suffix, recursive=True)
    assert _names(local, str(tree)) == _names(remote, f"file://{tree}")
    assert ".thumbs" not in str([location_str(j.source) for j in remote])  # hidden by any part of the path
    assert len(remote) == 3  # a, a_enhanced (an input here: outputs go to out/), sub/b


def test_an_empty_uri_folder_is_an_error_as_a_local_one(tmp_path):
    (tmp_path / "empty").mkdir()
    for item in (str(tmp_path / "empty"), f"file://{tmp_path / 'empty'}"):
        with pytest.raises(LowlightError, match="no images in folder"):
            plan_inputs([item], str(tmp_path / "out"))
    with pytest.raises(LowlightError, match="input not found"):
        plan_inputs([f"file://{tmp_path / 'nope'}"], str(tmp_path / "out"))


def test_outputs_inside_the_input_tree_are_not_inputs_on_a_rerun(tree):
    out = tree / "out"
    first = plan_inputs([str(tree)], str(out), recursive=True)
    for job in first:
        Path(job.target).parent.mkdir(parents=True, exist_ok=True)
        Path(job.target).write_bytes(Path(job.source).read_bytes())
    again = plan_inputs([str(tree)], str(out), recursive=True)
    assert [(j.source, j.target) for j in again] == [(j.source, j.target) for j in first]


def test_the_summary_gives_one_exit_code_rule():
    assert Summary().exit_code() == 0
    assert Summary(done=["a"], failed=[("b", "bad")]).exit_code() == 1
    assert Summary(failed=[("b", "bad")]).exit_code() == 2
    assert Summary(skipped=["a"], failed=[("b", "bad")]).exit_code() == 1


def test_raw_files_on_a_uri_are_developed_like_local_ones(tmp_path):
    """A DNG given as file:// decodes through RAW development with --raw-exposure (it used to
    fail as 'not an image format' on the Ray path)."""
    pytest.importorskip("rawpy", reason="camera RAW needs rawpy (pip install 'lowlight[raw]')")
    pytest.importorskip("tifffile")
    from lowlight.batch.ray_engine import EnhanceActor
    from lowlight.media.raw import synthetic_dng

    linear = np.full((32, 48, 3), 0.02)
    dng = synthetic_dng(tmp_path / "night.dng", linear)
    actor = EnhanceActor({"method": "identity"}, {}, 95, None, 3.0, None)
    local, remote = tmp_path / "local.png", tmp_path / "remote.png"
    assert actor._one(str(dng), str(local))[0] == "done"
    state, error, _ = actor._one(f"file://{dng}", f"file://{remote}")
    assert state == "done", error
    a, b = np.asarray(Image.open(local)), np.asarray(Image.open(remote))
    assert a.dtype == b.dtype and np.array_equal(a, b)
    plain = tmp_path / "plain.png"
    EnhanceActor({"method": "identity"}, {}, 95, None, 0.0, None)._one(f"file://{dng}", f"file://{plain}")
    assert np.asarray(Image.open(remote)).mean() > 2 * np.asarray(Image.open(plain)).mean()  # 3 stops applied
