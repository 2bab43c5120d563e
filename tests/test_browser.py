"""End to end in a real headless browser: Playwright drives Debian's Chromium against
`lowlight serve`, uploads a real dark photo, moves the sliders and downloads the result.

Needs Debian's Chromium (`apt-get install chromium`; `.ci/run` installs it) and Playwright (in the
test extra); skipped, with the reason, where Chromium is missing. Set LOWLIGHT_SCREENSHOTS=DIR to keep the screenshots.
"""

import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "dark" / "lime-3.png"
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "lowlight", "serve", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1)
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"the server stopped: {proc.stdout.read()}")
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(10)


def api_result(url: str, strength: float) -> np.ndarray:
    """What the API itself answers for the sample at ``strength`` (the page must show the same)."""
    import httpx

    r = httpx.post(url + "/v1/enhance", files={"file": (SAMPLE.name, SAMPLE.read_bytes(), "image/png")},
                   data={"strength": str(strength)}, timeout=60)
    r.raise_for_status()
    return np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB"))


def _heic():
    """The sample as HEIC bytes, or None without pillow-heif."""
    try:
        import pillow_heif
    except ImportError:
        return None
    pillow_heif.register_heif_opener()
    buf = io.BytesIO()
    Image.open(SAMPLE).convert("RGB").resize((200, 150)).save(buf, format="HEIF", quality=90)
    return buf.getvalue()


def test_page_uploads_compares_adjusts_and_downloads(server, tmp_path):
    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("LOWLIGHT_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    flags = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=flags)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900}, accept_downloads=True)
            external = []
            page.on("request", lambda req: external.append(req.url) if not req.url.startswith((server, "blob:", "data:")) else None)
            page.goto(server + "/")
            page.set_input_files("#files", str(SAMPLE))
            page.wait_for_selector("#download.shown", timeout=60_000)
            page.wait_for_function("document.getElementById('after').complete", timeout=10_000)
            page.locator("#split").fill("25")  # the comparison slider, by keyboard-accessible range input
            assert page.locator("#before-clip").evaluate("e => e.style.width") == "25%"
            page.screenshot(path=str(shots / "page.png"), full_page=True)
            page.locator("#strength").fill("0.5")
            page.wait_for_function("document.getElementById('strength-out').textContent === '0.50'")
            # the new result is in place: the download carries the strength it was made with
            page.wait_for_function("document.getElementById('download').dataset.strength === '0.5'"
                                   " && !document.getElementById('compare').classList.contains('busy')",
                                   timeout=60_000)
            with page.expect_download() as info:
                page.click("#download")
            download = info.value
            assert download.suggested_filename == "lime-3_enhanced.png"
            saved = tmp_path / download.suggested_filename
            download.save_as(saved)
            page.set_viewport_size({"width": 390, "height": 844})  # a phone
            page.screenshot(path=str(shots / "page-phone.png"), full_page=True)
            page.set_input_files("#files", {"name": "notes.png", "mimeType": "image/png", "buffer": b"not an image"})
            page.wait_for_function("document.getElementById('message').classList.contains('bad')", timeout=30_000)
            assert "cannot read image" in page.locator("#message").text_content()
            assert "HEIC" in page.locator("#drop small").text_content()
            heic = _heic()
            if heic is not None:  # a HEIC upload: the browser cannot show it; the before side must still appear
                page.set_input_files("#files", {"name": "phone.heic", "mimeType": "image/heic", "buffer": heic})
                page.wait_for_selector("#download.shown", timeout=60_000)
                page.wait_for_function("document.getElementById('before').complete && "
                                       "document.getElementById('before').naturalWidth > 0", timeout=60_000)
                assert not page.locator("#message").evaluate("e => e.classList.contains('bad')")  # old error gone
        finally:
            browser.close()
    got = np.asarray(Image.open(saved).convert("RGB"))
    assert np.array_equal(got, api_result(server, 0.5))  # the enhanced image at the chosen strength
    dark = np.asarray(Image.open(SAMPLE).convert("RGB"))
    assert got.mean() > dark.mean() + 10
    assert not external, external  # nothing loaded from anywhere but the server
