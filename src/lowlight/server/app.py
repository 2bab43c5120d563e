"""``lowlight serve``: an HTTP API for applications and a web page for people, over the same
:func:`lowlight.core.enhancer.enhance_photo` and the same loaded model as the CLI.

The model is loaded once. Inference runs off the event loop in a bounded pool of worker threads
(each with a fixed share of the CPU threads), behind a bounded queue: when it is full the server
answers 503 with ``Retry-After`` at once instead of piling up memory. Uploads are decoded and
encoded in memory, never written to disk, and nothing of an image is logged.

Run it with ``lowlight serve`` or mount :func:`create_app` in your own ASGI server::

    uvicorn --factory 'lowlight.server:create_app'
"""

import asyncio
import contextlib
import hmac
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Optional, Tuple

from .. import __version__
from ..errors import CorruptImageError, ImageTooLargeError, LowlightError, UnsupportedImageError

#: Install hint for the optional dependencies.
SERVER_EXTRA = "pip install 'lowlight[server]'"

#: Output formats the API writes, by the name a client gives.
FORMATS = {"png": (".png", "image/png"), "jpeg": (".jpg", "image/jpeg"), "jpg": (".jpg", "image/jpeg"),
           "webp": (".webp", "image/webp"), "tiff": (".tif", "image/tiff"), "tif": (".tif", "image/tiff")}
#: The format of an upload when the client names none: the same as its own, where the API writes it.
_SAME = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp", "TIFF": "tiff", "MPO": "jpeg"}
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@dataclass(frozen=True)
class ServerConfig:
    """Settings of one server; :func:`create_app` takes them, ``lowlight serve`` fills them."""

    model: Optional[str] = None           #: a model name, weights file, or None for the bundled default
    workers: int = 1                   #: inference threads running at once
    queue: int = 8                     #: requests waiting beyond those; more get 503 at once
    max_upload_mb: float = 50.0        #: largest upload in megabytes (413 above)
    max_pixels: float = 50e6           #: largest image in pixels (413 above)
    api_key: Optional[str] = None         #: when set, /v1/* and /metrics need ``Authorization: Bearer KEY``
    cors_origins: Tuple[str, ...] = ()  #: origins allowed by CORS (none: CORS off)
    threads: Optional[int] = None         #: torch CPU threads in all [all cores]
    backend: Optional[str] = None         #: torch or onnx
    device: str = "auto"

    def validate(self) -> "ServerConfig":
        if self.workers < 1:
            raise LowlightError(f"--workers must be at least 1, got {self.workers}")
        if self.queue < 0:
            raise LowlightError(f"--queue must be 0 or more, got {self.queue}")
        if self.max_upload_mb <= 0 or self.max_pixels <= 0:
            raise LowlightError("--max-upload-mb and --max-pixels must be positive")
        return self


@dataclass
class _Stats:
    """What /metrics reports, kept by the app (Prometheus collectors on a registry of its own)."""

    registry: object = None
    requests: object = None
    latency: object = None
    queue_depth: object = None
    images: object = None
    megapixels: object = None
    pending: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Refused(Exception):
    """An answer with an error status: JSON ``{"error": ..., "detail": ...}``."""

    def __init__(self, status: int, error: str, detail: str, headers: Optional[dict] = None):
        super().__init__(detail)
        self.status, self.error, self.detail, self.headers = status, error, detail, headers or {}


def _require():
    try:
        import fastapi  # noqa: F401
        import python_multipart  # noqa: F401
        import prometheus_client  # noqa: F401
    except ImportError as exc:
        raise LowlightError(f"the server needs {exc.name}; {SERVER_EXTRA}") from None


def _stats() -> _Stats:
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

    reg = CollectorRegistry()
    return _Stats(
        registry=reg,
        requests=Counter("lowlight_requests", "HTTP requests to /v1/enhance by status", ["status"], registry=reg),
        latency=Histogram("lowlight_enhance_seconds", "Time to answer /v1/enhance (successful requests)",
                          buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60), registry=reg),
        queue_depth=Gauge("lowlight_queue_depth", "Requests running or waiting for a worker", registry=reg),
        images=Counter("lowlight_images", "Images enhanced", registry=reg),
        megapixels=Counter("lowlight_megapixels", "Megapixels enhanced", registry=reg),
    )


def create_app(config: Optional[ServerConfig] = None, **overrides):
    """The ASGI app: ``create_app(ServerConfig(...))`` or ``create_app(workers=2, ...)``.

    With no arguments (as ``uvicorn --factory`` calls it) the settings come from the
    environment: ``LOWLIGHT_MODEL``, ``LOWLIGHT_WORKERS``, ``LOWLIGHT_API_KEY``.
    """
    _require()
    import torch
    from fastapi import FastAPI, File, Form, Request, UploadFile
    from fastapi.middleware.cors import CORSMiddleware
    from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

    from ..core.enhancer import EnhanceOptions, check_options, enhance_photo, load_model
    from ..models import count_parameters
    from ..media.photo import check_quality, decode_photo, encode_photo

    if config is None:
        config = ServerConfig(model=os.environ.get("LOWLIGHT_MODEL") or None,
                              workers=int(os.environ.get("LOWLIGHT_WORKERS", "1")),
                              api_key=os.environ.get("LOWLIGHT_API_KEY") or None)
    cfg = replace(config, **overrides).validate()
    total_threads = cfg.threads or os.cpu_count() or 1
    torch.set_num_threads(max(1, total_threads // cfg.workers))  # each worker its share, no fighting
    model = load_model(cfg.model, device=cfg.device, backend=cfg.backend,
                       threads=max(1, total_threads // cfg.workers))
    pool = ThreadPoolExecutor(max_workers=cfg.workers, thread_name_prefix="lowlight-enhance")
    stats = _stats()
    capacity = cfg.workers + cfg.queue
    max_bytes = int(cfg.max_upload_mb * 1024 * 1024)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        pool.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="lowlight", version=__version__, lifespan=lifespan,
                  description="Make photos taken in the dark look as if they were taken in good light.")
    app.state.config, app.state.model, app.state.stats = cfg, model, stats
    if cfg.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(cfg.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])

    @app.exception_handler(_Refused)
    async def refused(request: Request, exc: _Refused):
        return JSONResponse({"error": exc.error, "detail": exc.detail}, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):  # never a traceback to a client
        return JSONResponse({"error": "internal", "detail": "the server could not process this request"},
                            status_code=500)

    from fastapi.exceptions import RequestValidationError

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
        return JSONResponse({"error": "bad_request", "detail": f"{where}: {first.get('msg', 'invalid')}"},
                            status_code=400)

    def authorise(request: Request) -> None:
        if cfg.api_key is None:
            return
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip(), cfg.api_key):
            raise _Refused(401, "unauthorized", "send the API key as 'Authorization: Bearer KEY'",
                           {"WWW-Authenticate": "Bearer"})

    def work(data: bytes, name: str, options: EnhanceOptions, fmt: Optional[str], quality: int,
             keep_metadata: bool) -> Tuple[bytes, str, str, float]:
        try:
            photo = decode_photo(data, max_pixels=int(cfg.max_pixels), name=name)
        except ImageTooLargeError as exc:
            raise _Refused(413, "too_large", str(exc).replace("pass --max-pixels N to allow it",
                                                              "the server's limit is set by --max-pixels")) from None
        except UnsupportedImageError as exc:
            raise _Refused(415, "unsupported_media_type", str(exc)) from None
        except CorruptImageError as exc:
            raise _Refused(422, "corrupt_image", str(exc)) from None
        except LowlightError as exc:
            raise _Refused(422, "corrupt_image", str(exc)) from None
        if not keep_metadata:
            photo = replace(photo, exif=None)  # location privacy: EXIF stays on the client's copy
        out = enhance_photo(model, photo, options)
        chosen = fmt or _SAME.get(photo.source_format or "", "png")
        ext, media = FORMATS[chosen]
        body = encode_photo(out, ext, quality)
        h, w = photo.rgb.shape[:2]
        return body, ext, media, h * w / 1e6

    @app.post("/v1/enhance", summary="Enhance one photo",
              responses={200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}, "image/tiff": {}}}})
    async def enhance_endpoint(request: Request, file: UploadFile = File(..., description="the photo"),
                               strength: float = Form(1.0, description="0 keeps the input, 1 the full result"),
                               exposure: float = Form(0.0, description="stops of light added after"),
                               brightness: Optional[float] = Form(None, description="the result's mean luma "
                                                                  "0.01-0.99, for models that take a target"),
                               format: Optional[str] = Form(None, description="png, jpeg, webp or tiff [the input's]"),
                               quality: int = Form(95, description="JPEG/WebP quality 1-100"),
                               keep_metadata: bool = Form(False, description="keep EXIF (dropped by default)")):
        authorise(request)
        started = time.perf_counter()
        status = 500
        try:
            fmt = (format or "").lower() or None
            if fmt is not None and fmt not in FORMATS:
                raise _Refused(400, "bad_request", f"format must be one of png, jpeg, webp, tiff; got {format!r}")
            try:
                check_quality(quality)
                options = EnhanceOptions(strength=strength, exposure=exposure, brightness=brightness)
                check_options(model, options)
            except LowlightError as exc:
                raise _Refused(400, "bad_request", str(exc)) from None
            declared = request.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes + 64 * 1024:
                raise _Refused(413, "too_large", f"the upload is over the limit of {cfg.max_upload_mb:g} MB")
            data = await file.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise _Refused(413, "too_large", f"the upload is over the limit of {cfg.max_upload_mb:g} MB")
            if not data:
                raise _Refused(415, "unsupported_media_type", "the upload is empty; send an image file")
            with stats.lock:
                if stats.pending >= capacity:
                    raise _Refused(503, "busy", f"all {cfg.workers} workers are busy and {cfg.queue} requests "
                                                "wait; try again shortly", {"Retry-After": "1"})
                stats.pending += 1
                stats.queue_depth.set(stats.pending)
            try:
                loop = asyncio.get_running_loop()
                name = Path(file.filename or "upload").name
                body, ext, media, mp = await loop.run_in_executor(
                    pool, work, data, name, options, fmt, quality, keep_metadata)
            finally:
                with stats.lock:
                    stats.pending -= 1
                    stats.queue_depth.set(stats.pending)
            stem = Path(file.filename or "photo").stem or "photo"
            status = 200
            stats.images.inc()
            stats.megapixels.inc(mp)
            stats.latency.observe(time.perf_counter() - started)
            return Response(body, media_type=media,
                            headers={"Content-Disposition": f'attachment; filename="{_safe(stem)}_enhanced{ext}"'})
        except _Refused as exc:
            status = exc.status
            raise
        finally:
            stats.requests.labels(status=str(status)).inc()

    @app.get("/healthz", summary="Alive")
    async def healthz():
        return {"status": "ok"}

    @app.get("/readyz", summary="Model loaded and queue not full")
    async def readyz():
        if stats.pending >= capacity:
            return JSONResponse({"status": "busy", "pending": stats.pending}, status_code=503,
                                headers={"Retry-After": "1"})
        return {"status": "ready", "pending": stats.pending, "capacity": capacity}

    @app.get("/v1/models", summary="The loaded model")
    async def models(request: Request):
        authorise(request)
        params = count_parameters(model.net) if isinstance(model.net, torch.nn.Module) else None
        meta = model.metadata
        return {"name": model.name, "parameters": params, "backend": model.backend,
                "arguments": model.args, "weights_version": meta.get("lowlight_version"),
                "weights": model.source.name if model.source else None,
                "trained_on": meta.get("training") or None, "metrics": meta.get("metrics") or None}

    @app.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
    async def metrics(request: Request):
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        authorise(request)
        return Response(generate_latest(stats.registry), media_type=CONTENT_TYPE_LATEST)

    page = resources.files("lowlight.server").joinpath("static/index.html").read_text(encoding="utf-8")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index():
        return HTMLResponse(page.replace("{{VERSION}}", __version__).replace(
            "{{NEEDS_KEY}}", "true" if cfg.api_key else "false"))

    return app


def _safe(stem: str) -> str:
    """A file name safe inside a Content-Disposition header."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)[:100] or "photo"


def check_bind(host: str, api_key: Optional[str]) -> None:
    """Binding beyond loopback needs an API key: refuse to start otherwise."""
    if host not in _LOOPBACK and not api_key:
        raise LowlightError(f"binding to {host} exposes the server beyond this machine; set --api-key KEY "
                            "(or LOWLIGHT_API_KEY), or bind to 127.0.0.1")


def serve(config: ServerConfig, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the app under uvicorn until interrupted."""
    check_bind(host, config.api_key)
    _require()
    import uvicorn

    app = create_app(config)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
