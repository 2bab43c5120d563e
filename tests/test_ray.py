"""`lowlight enhance --engine ray` on a local Ray with 2 CPUs: the same bytes as the local path,
one corrupt file listed while the rest are done, a rerun that does only what is missing, a lost
actor that loses nothing, URIs, and no Ray process left behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.slow  # a Ray cluster on this machine: minutes, not seconds


def _env() -> dict:
    return {**os.environ, "OMP_NUM_THREADS": "1"}


def _cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lowlight", *map(str, args)], capture_output=True, text=True,
                          env=_env(), timeout=600)


def _ray_processes() -> list[str]:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout.splitlines()
    return [line for line in out if "raylet" in line or "gcs_server" in line]


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    from lowlight.core.checkpoint import save_weights
    from lowlight.models import create_model

    root = tmp_path_factory.mktemp("ray")
    photos = root / "photos"
    (photos / "sub").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in ("a.png", "b.jpg", "c.png", "sub/d.png", "sub/e.webp"):
        Image.fromarray(rng.integers(0, 60, (36, 52, 3), dtype=np.uint8)).save(photos / name)
    (photos / "broken.png").write_bytes(b"\x89PNG not really")
    weights = save_weights(root / "tiny.safetensors", create_model("curve-unet", width=4, thumb=8, shadows=False, night=False), "curve-unet",
                           {"width": 4, "thumb": 8})
    return photos, weights


def test_ray_engine_matches_local_bytes_lists_failures_and_reruns_only_what_is_missing(collection, tmp_path):
    photos, weights = collection
    local, remote = tmp_path / "local", tmp_path / "ray"
    r = _cli("enhance", photos, "-r", "-o", local, "--weights", weights, "--threads", "1", "-q")
    assert r.returncode == 1  # one corrupt file
    before = set(_ray_processes())
    r = _cli("enhance", photos, "-r", "-o", remote, "--weights", weights, "--engine", "ray", "--actors", "2",
             "--batch-size", "2")
    assert r.returncode == 1, r.stderr
    assert "enhanced 5, skipped 0 existing, failed 1;" in r.stdout
    errors = [line for line in r.stderr.splitlines() if line.startswith("lowlight: error:")]
    assert len(errors) == 1 and "broken.png" in errors[0]
    assert "Traceback" not in r.stderr
    made = sorted(p.relative_to(remote) for p in remote.rglob("*") if p.is_file())
    assert made == sorted(p.relative_to(local) for p in local.rglob("*") if p.is_file())
    assert len(made) == 5 and not [p for p in made if p.name.endswith(".tmp")]
    for rel in made:
        assert (remote / rel).read_bytes() == (local / rel).read_bytes(), rel
    assert set(_ray_processes()) <= before  # the local Ray it started is gone
    again = _cli("enhance", photos, "-r", "-o", remote, "--weights", weights, "--engine", "ray", "--actors", "2")
    assert again.returncode == 1 and "enhanced 0, skipped 5 existing" in again.stdout and "failed 1" in again.stdout


@pytest.fixture(scope="module")
def ray_session():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_lost_actor_and_uris(collection, tmp_path, ray_session):
    from ray import cloudpickle

    from lowlight.batch.plan import is_uri
    from lowlight.batch.ray_engine import EnhanceActor, enhance_dataset

    photos, weights = collection
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.png", "c.png"):
        (folder / name).write_bytes((photos / name).read_bytes())
    (folder / "crash.png").write_bytes((photos / "a.png").read_bytes())
    marker = tmp_path / "crashed"

    class Crashing(EnhanceActor):
        def _one(self, source, target):
            if source.endswith("crash.png") and not marker.exists():
                marker.write_text("once")
                os._exit(1)  # the actor process dies mid-batch
            return super()._one(source, target)

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    out = tmp_path / "out"
    summary = enhance_dataset([str(folder)], str(out), spec={"weights": str(weights)}, actors=2, batch_size=1,
                              actor=Crashing)
    assert marker.exists()  # an actor was lost
    assert sorted(j.source.name for j in summary.done) == ["a.png", "c.png", "crash.png"] and not summary.failed
    # URIs (file:// here; s3:// and gs:// go the same way through pyarrow)
    uri_out = tmp_path / "uri-out"
    summary = enhance_dataset([f"file://{folder}"], f"file://{uri_out}", spec={"weights": str(weights)},
                              actors=1, batch_size=2)
    assert len(summary.done) == 3
    for name in ("a.png", "c.png", "crash.png"):
        assert (uri_out / name).read_bytes() == (out / name).read_bytes()
    rerun = enhance_dataset([f"file://{folder}"], f"file://{uri_out}", spec={"weights": str(weights)}, actors=1)
    assert not rerun.done and len(rerun.skipped) == 3
    assert is_uri("s3://bucket/x") and not is_uri(str(folder))


def test_ray_engine_needs_an_output_folder_and_refuses_video(collection, tmp_path):
    from lowlight.batch.ray_engine import plan_jobs
    from lowlight.errors import LowlightError

    photos, weights = collection
    r = _cli("enhance", photos, "--engine", "ray", "--weights", weights)
    assert r.returncode == 2 and "pass -o FOLDER" in r.stderr
    (tmp_path / "clip.mp4").write_bytes(b"x")
    with pytest.raises(LowlightError, match="is a video"):
        plan_jobs([str(tmp_path / "clip.mp4")], str(tmp_path / "out"))
