"""The HTTP API: every format, every error status, the API key, a full queue, the metrics."""

import io
import threading

import numpy as np
import pytest
import torch
from PIL import Image

from lowlight.core.checkpoint import save_weights
from lowlight.models import create_model

from fastapi.testclient import TestClient  # the server extra is in the test extra: missing is a failure

from lowlight.errors import LowlightError
from lowlight.server import ServerConfig, check_bind, create_app

RNG = np.random.default_rng(7)
DARK = RNG.integers(0, 70, (30, 40, 3), dtype=np.uint8)


def encoded(fmt: str, array=DARK, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format=fmt, **kw)
    return buf.getvalue()


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("w") / "tiny.safetensors"
    return save_weights(path, create_model("curve-unet", width=4, thumb=8, shadows=False, night=False), "curve-unet", {"width": 4, "thumb": 8})


@pytest.fixture(scope="module")
def client(weights):
    with TestClient(create_app(ServerConfig(model=str(weights), max_pixels=5000, max_upload_mb=0.05))) as c:
        yield c


@pytest.mark.parametrize("fmt,media,pil", [("png", "image/png", "PNG"), ("jpeg", "image/jpeg", "JPEG"),
                                           ("webp", "image/webp", "WEBP"), ("tiff", "image/tiff", "TIFF")])
def test_enhance_returns_each_format(client, fmt, media, pil):
    r = client.post("/v1/enhance", files={"file": ("night.png", encoded("PNG"), "image/png")},
                    data={"format": fmt, "strength": "1"})
    assert r.status_code == 200 and r.headers["content-type"] == media
    out = Image.open(io.BytesIO(r.content))
    assert out.format == pil and out.size == (40, 30)
    assert f'filename="night_enhanced.' in r.headers["content-disposition"]


def test_enhance_keeps_format_depth_orientation_and_icc_but_drops_exif(client):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: the output comes back upright
    exif[0x010F] = "SecretCam"
    jpg = encoded("JPEG", exif=exif.tobytes(), icc_profile=b"\0\0\0\x0cfake-icc")
    r = client.post("/v1/enhance", files={"file": ("p.jpg", jpg, "image/jpeg")})
    out = Image.open(io.BytesIO(r.content))
    assert r.status_code == 200 and out.format == "JPEG" and out.size == (30, 40)
    assert out.info.get("icc_profile") == b"\0\0\0\x0cfake-icc" and 0x010F not in out.getexif()
    kept = client.post("/v1/enhance", files={"file": ("p.jpg", jpg, "image/jpeg")}, data={"keep_metadata": "true"})
    assert Image.open(io.BytesIO(kept.content)).getexif().get(0x010F) == "SecretCam"
    deep = encoded("PNG", array=(DARK[..., 0].astype(np.uint16) * 257))
    r16 = client.post("/v1/enhance", files={"file": ("g.png", deep, "image/png")})
    assert Image.open(io.BytesIO(r16.content)).mode.startswith("I")


def test_brightness_is_refused_by_a_model_that_takes_no_target(client):
    r = client.post("/v1/enhance", files={"file": ("a.png", encoded("PNG"), "image/png")}, data={"brightness": "0.5"})
    assert r.status_code == 400 and "takes no --brightness" in r.json()["detail"]


def test_strength_zero_gives_the_input_back(client):
    r = client.post("/v1/enhance", files={"file": ("a.png", encoded("PNG"), "image/png")}, data={"strength": "0"})
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(r.content))), DARK)


@pytest.mark.parametrize("files,data,status,error", [
    ({"file": ("a.png", encoded("PNG"), "image/png")}, {"strength": "2"}, 400, "strength must be between 0 and 1"),
    ({"file": ("a.png", encoded("PNG"), "image/png")}, {"format": "gif"}, 400, "format must be one of"),
    ({"file": ("a.png", encoded("PNG"), "image/png")}, {"quality": "0"}, 400, "quality"),
    ({"file": ("a.png", encoded("PNG"), "image/png")}, {"strength": "lots"}, 400, "strength"),
    ({"file": ("a.png", encoded("PNG"), "image/png")}, {"brightness": "1.5"}, 400, "between 0.01 and 0.99"),
    ({}, {}, 400, "file"),
    ({"file": ("a.txt", b"just some text", "text/plain")}, {}, 415, "cannot read image"),
    ({"file": ("a.png", b"", "image/png")}, {}, 415, "empty"),
    ({"file": ("a.png", encoded("PNG")[:60], "image/png")}, {}, 422, "cannot read image"),
    ({"file": ("big.png", encoded("PNG", array=np.zeros((100, 100, 3), np.uint8)), "image/png")}, {}, 413,
     "limit of 0.005 megapixels"),
    ({"file": ("huge.png", encoded("PNG", array=RNG.integers(0, 255, (140, 140, 3), dtype=np.uint8)), "image/png")},
     {}, 413, "over the limit of 0.05 MB"),
])
def test_errors_are_json_with_the_right_status(client, files, data, status, error):
    r = client.post("/v1/enhance", files=files, data=data)
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error", "detail"} and error in body["detail"] and "Traceback" not in r.text


def test_api_key_is_required_when_set(weights):
    with TestClient(create_app(ServerConfig(model=str(weights), api_key="s3cret"))) as c:
        png = {"file": ("a.png", encoded("PNG"), "image/png")}
        assert c.post("/v1/enhance", files=png).status_code == 401
        assert c.post("/v1/enhance", files=png, headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.post("/v1/enhance", files=png, headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert c.get("/metrics").status_code == 401 and c.get("/healthz").status_code == 200
        assert c.get("/").status_code == 200 and "const NEEDS_KEY = true" in c.get("/").text
    with pytest.raises(LowlightError, match="--api-key"):
        check_bind("0.0.0.0", None)
    check_bind("0.0.0.0", "key")
    check_bind("127.0.0.1", None)


def test_a_full_queue_answers_503_at_once(weights, monkeypatch):
    import lowlight.core.enhancer

    release, entered = threading.Event(), threading.Event()
    real = lowlight.core.enhancer.enhance_photo

    def slow(*args, **kwargs):
        entered.set()
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(lowlight.core.enhancer, "enhance_photo", slow)
    with TestClient(create_app(ServerConfig(model=str(weights), workers=1, queue=0))) as c:
        png = {"file": ("a.png", encoded("PNG"), "image/png")}
        first = {}
        worker = threading.Thread(target=lambda: first.update(r=c.post("/v1/enhance", files=png)))
        worker.start()
        assert entered.wait(10)
        busy = c.post("/v1/enhance", files=png)
        assert busy.status_code == 503 and busy.headers["retry-after"] == "1" and busy.json()["error"] == "busy"
        assert c.get("/readyz").status_code == 503
        release.set()
        worker.join(10)
        assert first["r"].status_code == 200 and c.get("/readyz").status_code == 200


def test_health_models_metrics_and_page(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    info = client.get("/v1/models").json()
    assert info["name"] == "curve-unet" and info["parameters"] > 0 and info["weights"] == "tiny.safetensors"
    before = client.get("/metrics").text
    client.post("/v1/enhance", files={"file": ("a.png", encoded("PNG"), "image/png")})
    client.post("/v1/enhance", files={"file": ("a.png", b"nope", "image/png")})
    text = client.get("/metrics").text

    def value(name, body):
        lines = [line for line in body.splitlines() if line.startswith(name)]
        return float(lines[0].split()[-1]) if lines else 0.0

    assert value('lowlight_requests_total{status="200"}', text) == value('lowlight_requests_total{status="200"}', before) + 1
    assert value('lowlight_requests_total{status="415"}', text) >= 1
    assert value("lowlight_images_total", text) == value("lowlight_images_total", before) + 1
    assert value("lowlight_megapixels_total", text) > value("lowlight_megapixels_total", before)
    assert "lowlight_enhance_seconds_bucket" in text and "lowlight_queue_depth" in text
    page = client.get("/").text
    assert "Drop photos here" in page and "http://" not in page.replace("http://\" +", "")  # nothing from elsewhere
    assert client.get("/openapi.json").json()["paths"]["/v1/enhance"]["post"]


# -- the app's parts on their own, and what they promise (#26, #25) ---------------------------------
def _request(app, headers: dict, chunks=(), consumed=None):
    """A Starlette request whose body arrives in ``chunks``; ``consumed`` counts what was read."""
    from starlette.requests import Request

    parts = list(chunks)

    async def receive():
        if consumed is not None:
            consumed.append(1)
        body = parts.pop(0) if parts else b""
        return {"type": "http.request", "body": body, "more_body": bool(parts)}

    scope = {"type": "http", "method": "POST", "path": "/v1/enhance", "app": app, "query_string": b"",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
    return Request(scope, receive)


def test_key_and_declared_size_are_refused_before_the_body_is_read(weights):
    from lowlight.server.app import Refused, declared_size, require_key

    app = create_app(ServerConfig(model=str(weights), api_key="s3cret", max_upload_mb=1))
    consumed = []
    big = _request(app, {"content-length": str(50 * 1024 * 1024)}, [b"x" * 1024] * 10, consumed)
    with pytest.raises(Refused) as no_key:
        require_key(big)
    with pytest.raises(Refused) as too_big:
        declared_size(big)
    assert (no_key.value.status, too_big.value.status) == (401, 413) and not consumed
    require_key(_request(app, {"authorization": "Bearer s3cret"}))  # the right key passes


def test_the_body_is_capped_while_it_streams_and_kept_in_memory(weights, monkeypatch):
    import asyncio

    from python_multipart.multipart import File

    from lowlight.server.app import Refused, read_form

    app = create_app(ServerConfig(model=str(weights), max_upload_mb=1))
    consumed = []
    head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n'
    endless = _request(app, {"content-type": "multipart/form-data; boundary=b"}, [head] + [b"x" * 65536] * 63,
                       consumed)
    with pytest.raises(Refused, match="over the limit of 1 MB"):
        asyncio.run(read_form(endless, 1024 * 1024))
    assert len(consumed) < 64  # stopped reading once past the limit, without a Content-Length

    def no_disk(self):
        raise AssertionError("an upload was spooled to disk")

    monkeypatch.setattr(File, "flush_to_disk", no_disk)
    photo = encoded("PNG", array=RNG.integers(0, 60, (700, 700, 3), dtype=np.uint8))  # about 1.5 MB
    with TestClient(create_app(ServerConfig(model=str(weights), max_upload_mb=4, max_pixels=1e6))) as c:
        r = c.post("/v1/enhance", files={"file": ("big.png", photo, "image/png")})
    assert r.status_code == 200 and len(photo) > 1024 * 1024


def test_every_error_is_json_and_documented_and_counted(client):
    for r, status in ((client.get("/nope"), 404), (client.put("/v1/enhance"), 405)):
        assert r.status_code == status and set(r.json()) == {"error", "detail"}
    doc = client.get("/openapi.json").json()["paths"]["/v1/enhance"]["post"]
    assert "Validation Error" not in str(doc["responses"]) and "corrupt_image" in doc["responses"]["422"]["description"]
    assert "file" in str(doc["requestBody"])
    before = client.get("/metrics").text
    png = {"file": ("a.png", encoded("PNG"), "image/png")}
    bad = [client.post("/v1/enhance", files=png, data={"strength": "abc"}),
           client.post("/v1/enhance", data={"strength": "1"}),
           client.post("/v1/enhance", files=png, data={"keep_metadata": "maybe"})]
    assert [r.status_code for r in bad] == [400, 400, 400]
    count = lambda body: sum(float(line.split()[-1]) for line in body.splitlines()  # noqa: E731
                             if line.startswith('lowlight_requests_total{status="400"}'))
    assert count(client.get("/metrics").text) == count(before) + 3


def test_retry_after_follows_the_queue_and_recent_job_times(weights):
    app = create_app(ServerConfig(model=str(weights), workers=2, queue=4))
    state = app.state.lowlight
    state.job_seconds, state.pending = 30.0, 6  # two running, four waiting, 30 s a job
    assert state.retry_after() == 90  # the four ahead take two more rounds after the running ones
    state.job_seconds, state.pending = 0.05, 2
    assert state.retry_after() == 1


def test_serve_says_serving_only_once_bound_and_one_line_for_a_bad_port(weights):
    import socket
    import subprocess
    import sys

    def serve(*args):
        return subprocess.Popen([sys.executable, "-m", "lowlight", "serve", "--weights", str(weights), *args],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    for args, why in ((["--port", "99999"], "between 0 and 65535"), (["--port", str(port)], "in use")):
        p = serve(*args)
        out, err = p.communicate(timeout=60)
        assert p.returncode == 2 and "serving on" not in out, (out, err)
        assert len(err.strip().splitlines()) == 1 and why in err and "Traceback" not in err
    busy.close()
    p = serve("--port", "0")  # any free port: the line names the one bound
    try:
        line = p.stdout.readline()
        assert line.startswith("lowlight: serving on http://127.0.0.1:") and ":0/" not in line
        url = line.split()[3]
        import urllib.request

        assert urllib.request.urlopen(url + "healthz", timeout=10).read() == b'{"status":"ok"}'
    finally:
        p.terminate()
        p.wait(10)


def test_api_docs_need_no_internet(client):
    """/docs loads Swagger UI from the package, not from a CDN (it was blank offline)."""
    import re

    page = client.get("/docs").text
    sources = re.findall(r"""(?:src|href)=["']([^"']+)""", page) + re.findall(r"""url: ["']([^"']+)""", page)
    assert sources and not [s for s in sources if s.startswith(("http://", "https://", "//"))], sources
    for path in sources:
        if path.startswith("/docs-assets/"):
            assert client.get(path).status_code == 200, path
    assert "swagger-ui-bundle.js" in page
