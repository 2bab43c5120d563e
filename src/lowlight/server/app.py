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
import math
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Callable, Optional, Tuple

from .. import __version__

try:  # the server extra; without it create_app says which package to install (_require)
    from starlette.requests import Request
except ImportError:  # pragma: no cover - exercised by the missing-extra test
    Request = object
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


class Refused(Exception):
    """An answer with an error status: JSON ``{"error": ..., "detail": ...}``."""

    def __init__(self, status: int, error: str, detail: str, headers: Optional[dict] = None):
        super().__init__(detail)
        self.status, self.error, self.detail, self.headers = status, error, detail, headers or {}


def _require():
    try:
        import fastapi  # noqa: F401
        import python_multipart  # noqa: F401
        import prometheus_client  # noqa: F401
        import swagger_ui_bundle  # noqa: F401
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


#: What each error status of ``/v1/enhance`` means, for the OpenAPI document.
ERRORS = {400: "bad_request: a parameter is invalid", 401: "unauthorized: the API key is missing or wrong",
          413: "too_large: the upload or the image is over the server's limits",
          415: "unsupported_media_type: the upload is empty or no image", 422: "corrupt_image: it cannot be decoded",
          503: "busy: every worker is busy and the queue is full; retry after Retry-After seconds"}
_ERROR_SCHEMA = {"type": "object", "required": ["error", "detail"],
                 "properties": {"error": {"type": "string"}, "detail": {"type": "string"}}}
#: The request body of ``/v1/enhance`` (read by the route itself, not by FastAPI: see :func:`read_form`).
_FORM_SCHEMA = {"type": "object", "required": ["file"], "properties": {
    "file": {"type": "string", "format": "binary", "description": "the photo"},
    "strength": {"type": "number", "default": 1.0, "description": "0 keeps the input, 1 the full result"},
    "exposure": {"type": "number", "default": 0.0, "description": "stops of light added after"},
    "brightness": {"type": "number", "description": "the result's mean luma 0.01-0.99, for models that take a target"},
    "format": {"type": "string", "enum": ["png", "jpeg", "webp", "tiff"], "description": "[the input's]"},
    "quality": {"type": "integer", "default": 95, "description": "JPEG/WebP quality 1-100"},
    "keep_metadata": {"type": "boolean", "default": False, "description": "keep EXIF (dropped by default)"}}}


@dataclass
class ServerState:
    """What the routes share: the settings, the loaded model, the worker pool, the metrics and
    the queue (``pending`` requests running or waiting; ``job_seconds``, a running mean of how
    long one enhancement takes, for ``Retry-After``)."""

    config: ServerConfig
    model: object
    pool: ThreadPoolExecutor
    stats: _Stats
    pending: int = 0
    job_seconds: float = 1.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def capacity(self) -> int:
        return self.config.workers + self.config.queue

    @property
    def max_bytes(self) -> int:
        return int(self.config.max_upload_mb * 1024 * 1024)

    def retry_after(self) -> int:
        """Seconds until a place is likely free: the queue ahead, worked off by every worker at
        the recent time per job (at least 1)."""
        waves = (self.pending - self.config.workers) / self.config.workers + 1
        return max(1, math.ceil(self.job_seconds * max(waves, 1.0)))

    def admit(self) -> None:
        with self.lock:
            if self.pending >= self.capacity:
                raise Refused(503, "busy", f"all {self.config.workers} workers are busy and {self.config.queue} "
                                           "requests wait; try again shortly", {"Retry-After": str(self.retry_after())})
            self.pending += 1
            self.stats.queue_depth.set(self.pending)

    def release(self, seconds: Optional[float]) -> None:
        with self.lock:
            self.pending -= 1
            self.stats.queue_depth.set(self.pending)
            if seconds is not None:
                self.job_seconds = 0.7 * self.job_seconds + 0.3 * seconds


def _state(request: Request) -> ServerState:
    return request.app.state.lowlight


def require_key(request: Request) -> None:
    """A dependency: 401 unless the request carries the API key (when one is set), checked on
    the headers before any of the body is read."""
    key = _state(request).config.api_key
    if key is None:
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), key.encode()):
        raise Refused(401, "unauthorized", "send the API key as 'Authorization: Bearer KEY'",
                      {"WWW-Authenticate": "Bearer"})


def declared_size(request: Request) -> None:
    """A dependency: 413 when the declared ``Content-Length`` is over the upload limit, before
    any of the body is read (the body is capped while it streams too: :func:`read_form`)."""
    state = _state(request)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > state.max_bytes + _FORM_OVERHEAD:
        raise Refused(413, "too_large", f"the upload is over the limit of {state.config.max_upload_mb:g} MB")


_FORM_OVERHEAD = 64 * 1024  #: room for the multipart headers and the small fields around the file


async def read_form(request: Request, max_bytes: int) -> Tuple[dict, dict]:
    """The multipart body, streamed into memory (never to disk) and cut off as soon as it passes
    ``max_bytes`` plus the form's own overhead: ``(fields, files)`` with ``files[name] =
    (filename, bytes)``."""
    from python_multipart.multipart import FormParser, parse_options_header

    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or b"boundary" not in params:
        raise Refused(400, "bad_request", "send the photo as multipart/form-data with a 'file' field")
    fields, files = {}, {}

    def on_field(f) -> None:
        fields[f.field_name.decode(errors="replace")] = (f.value or b"").decode(errors="replace")

    def on_file(f) -> None:
        f.file_object.seek(0)
        name = (f.file_name or b"").decode(errors="replace")
        files[f.field_name.decode(errors="replace")] = (name, f.file_object.read())

    parser = FormParser(content_type.decode(), on_field, on_file, boundary=params[b"boundary"],
                        config={"MAX_MEMORY_FILE_SIZE": max_bytes + _FORM_OVERHEAD + 1})
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_bytes + _FORM_OVERHEAD:
                raise Refused(413, "too_large", f"the upload is over the limit of {max_bytes / 1048576:g} MB")
            parser.write(chunk)
        parser.finalize()
    except Refused:
        raise
    except Exception as exc:  # a malformed multipart body
        raise Refused(400, "bad_request", f"the form could not be read: {exc}") from None
    return fields, files


def _number(fields: dict, name: str, default, kind=float):
    text = fields.get(name)
    if text is None or text == "":
        return default
    try:
        return kind(text)
    except ValueError:
        raise Refused(400, "bad_request", f"{name}: {text!r} is not a {'whole ' if kind is int else ''}number") from None


def _flag(fields: dict, name: str) -> bool:
    text = fields.get(name, "false").strip().lower()
    if text not in ("true", "false", "1", "0", "yes", "no", "on", "off", ""):
        raise Refused(400, "bad_request", f"{name}: {text!r} is not true or false")
    return text in ("true", "1", "yes", "on")


def parse_request(fields: dict, model):
    """The form's fields as ``(options, format, quality, keep_metadata)``; 400 for any bad one."""
    from ..core.enhancer import EnhanceOptions, check_options
    from ..media.photo import check_quality

    fmt = (fields.get("format") or "").lower() or None
    if fmt is not None and fmt not in FORMATS:
        raise Refused(400, "bad_request", f"format must be one of png, jpeg, webp, tiff; got {fields['format']!r}")
    quality = _number(fields, "quality", 95, int)
    keep = _flag(fields, "keep_metadata")
    try:
        check_quality(quality)
        options = EnhanceOptions(strength=_number(fields, "strength", 1.0), exposure=_number(fields, "exposure", 0.0),
                                 brightness=_number(fields, "brightness", None))
        check_options(model, options)
    except LowlightError as exc:
        raise Refused(400, "bad_request", str(exc)) from None
    return options, fmt, quality, keep


def work(state: ServerState, data: bytes, name: str, options, fmt: Optional[str], quality: int,
         keep_metadata: bool) -> Tuple[bytes, str, str, float]:
    """Decode, enhance and encode one upload (in a worker thread); errors as :class:`Refused`."""
    from ..core.enhancer import enhance_photo
    from ..media.photo import decode_photo, encode_photo

    try:
        photo = decode_photo(data, max_pixels=int(state.config.max_pixels), name=name)
    except ImageTooLargeError as exc:
        raise Refused(413, "too_large", f"{exc.size_text}; the server's limit is set by --max-pixels") from None
    except UnsupportedImageError as exc:
        raise Refused(415, "unsupported_media_type", str(exc)) from None
    except (CorruptImageError, LowlightError) as exc:
        raise Refused(422, "corrupt_image", str(exc)) from None
    if not keep_metadata:
        photo = replace(photo, exif=None)  # location privacy: EXIF stays on the client's copy
    out = enhance_photo(state.model, photo, options)
    chosen = fmt or _SAME.get(photo.source_format or "", "png")
    ext, media = FORMATS[chosen]
    body = encode_photo(out, ext, quality)
    h, w = photo.rgb.shape[:2]
    return body, ext, media, h * w / 1e6


def build_router():
    """The routes, as one ``APIRouter``; they find the model and settings on ``app.state.lowlight``."""
    import torch
    from fastapi import APIRouter, Depends
    from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

    from ..models import count_parameters

    router = APIRouter()
    errors = {code: {"description": text, "content": {"application/json": {"schema": _ERROR_SCHEMA}}}
              for code, text in ERRORS.items()}

    @router.post("/v1/enhance", summary="Enhance one photo", dependencies=[Depends(require_key), Depends(declared_size)],
                 responses={200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}, "image/tiff": {}}},
                            **errors},
                 openapi_extra={"requestBody": {"required": True, "content": {
                     "multipart/form-data": {"schema": _FORM_SCHEMA}}}})
    async def enhance(request: Request):
        state = _state(request)
        started = time.perf_counter()
        status = 500
        try:
            fields, files = await read_form(request, state.max_bytes)
            if "file" not in files:
                raise Refused(400, "bad_request", "file: the form has no 'file' field; send the photo as 'file'")
            options, fmt, quality, keep = parse_request(fields, state.model)
            filename, data = files["file"]
            if len(data) > state.max_bytes:
                raise Refused(413, "too_large", f"the upload is over the limit of {state.config.max_upload_mb:g} MB")
            if not data:
                raise Refused(415, "unsupported_media_type", "the upload is empty; send an image file")
            state.admit()
            took = None
            try:
                job_started = time.perf_counter()
                body, ext, media, mp = await asyncio.get_running_loop().run_in_executor(
                    state.pool, work, state, data, Path(filename or "upload").name, options, fmt, quality, keep)
                took = time.perf_counter() - job_started
            finally:
                state.release(took)
            stem = Path(filename or "photo").stem or "photo"
            status = 200
            state.stats.images.inc()
            state.stats.megapixels.inc(mp)
            state.stats.latency.observe(time.perf_counter() - started)
            return Response(body, media_type=media,
                            headers={"Content-Disposition": f'attachment; filename="{_safe(stem)}_enhanced{ext}"'})
        except Refused as exc:
            status = exc.status
            raise
        finally:
            state.stats.requests.labels(status=str(status)).inc()

    @router.get("/healthz", summary="Alive")
    async def healthz():
        return {"status": "ok"}

    @router.get("/readyz", summary="Model loaded and queue not full")
    async def readyz(request: Request):
        state = _state(request)
        if state.pending >= state.capacity:
            return JSONResponse({"status": "busy", "pending": state.pending}, status_code=503,
                                headers={"Retry-After": str(state.retry_after())})
        return {"status": "ready", "pending": state.pending, "capacity": state.capacity}

    @router.get("/v1/models", summary="The loaded model", dependencies=[Depends(require_key)])
    async def models(request: Request):
        model = _state(request).model
        params = count_parameters(model.net) if isinstance(getattr(model, "net", None), torch.nn.Module) else None
        meta = getattr(model, "metadata", {})
        source = getattr(model, "source", None)
        return {"name": model.name, "parameters": params, "backend": getattr(model, "backend", None),
                "arguments": getattr(model, "args", {}), "weights_version": meta.get("lowlight_version"),
                "weights": source.name if source else None,
                "trained_on": meta.get("training") or None, "metrics": meta.get("metrics") or None}

    @router.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse,
                dependencies=[Depends(require_key)])
    async def metrics(request: Request):
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return Response(generate_latest(_state(request).stats.registry), media_type=CONTENT_TYPE_LATEST)

    page = resources.files("lowlight.server").joinpath("static/index.html").read_text(encoding="utf-8")

    @router.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index(request: Request):
        return HTMLResponse(page.replace("{{VERSION}}", __version__).replace(
            "{{NEEDS_KEY}}", "true" if _state(request).config.api_key else "false"))

    return router


def mount_docs(app) -> None:
    """``/docs``: Swagger UI served from the package (swagger-ui-bundle), never from a CDN, so the
    API documentation works on a machine without internet, as the page at ``/`` does."""
    import swagger_ui_bundle
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles

    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs():
        return get_swagger_ui_html(openapi_url=app.openapi_url, title="lowlight API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon-32x32.png")


def install_error_handlers(app) -> None:
    """Every error as JSON ``{"error", "detail"}``, never a traceback: our refusals, FastAPI's
    404 and 405, invalid requests (400) and anything unexpected (500)."""
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException

    names = {404: "not_found", 405: "method_not_allowed"}

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused):
        return JSONResponse({"error": exc.error, "detail": exc.detail}, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        error = names.get(exc.status_code, "http_error")
        return JSONResponse({"error": error, "detail": str(exc.detail)}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
        return JSONResponse({"error": "bad_request", "detail": f"{where}: {first.get('msg', 'invalid')}"},
                            status_code=400)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        return JSONResponse({"error": "internal", "detail": "the server could not process this request"},
                            status_code=500)


def create_app(config: Optional[ServerConfig] = None, **overrides):
    """The ASGI app: ``create_app(ServerConfig(...))`` or ``create_app(workers=2, ...)``.

    With no arguments (as ``uvicorn --factory`` calls it) the settings come from the
    environment: ``LOWLIGHT_MODEL``, ``LOWLIGHT_WORKERS``, ``LOWLIGHT_API_KEY``.
    """
    _require()
    import torch
    from fastapi import FastAPI
    from fastapi.middleware.cors import CORSMiddleware

    from ..core.enhancer import load_model

    if config is None:
        config = ServerConfig(model=os.environ.get("LOWLIGHT_MODEL") or None,
                              workers=int(os.environ.get("LOWLIGHT_WORKERS", "1")),
                              api_key=os.environ.get("LOWLIGHT_API_KEY") or None)
    cfg = replace(config, **overrides).validate()
    total_threads = cfg.threads or os.cpu_count() or 1
    torch.set_num_threads(max(1, total_threads // cfg.workers))  # each worker its share, no fighting
    model = load_model(cfg.model, device=cfg.device, backend=cfg.backend,
                       threads=max(1, total_threads // cfg.workers))
    state = ServerState(cfg, model, ThreadPoolExecutor(max_workers=cfg.workers, thread_name_prefix="lowlight-enhance"),
                        _stats())

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        state.pool.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="lowlight", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Make photos taken in the dark look as if they were taken in good light.")
    app.state.lowlight = state
    mount_docs(app)
    if cfg.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(cfg.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])
    install_error_handlers(app)
    app.include_router(build_router())
    return app


def _safe(stem: str) -> str:
    """A file name safe inside a Content-Disposition header."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)[:100] or "photo"


def check_bind(host: str, api_key: Optional[str]) -> None:
    """Binding beyond loopback needs an API key: refuse to start otherwise."""
    if host not in _LOOPBACK and not api_key:
        raise LowlightError(f"binding to {host} exposes the server beyond this machine; set --api-key KEY "
                            "(or LOWLIGHT_API_KEY), or bind to 127.0.0.1")


def bind(host: str, port: int):
    """A listening socket on ``host:port``, or a one-line error (a port out of range, in use, or
    an address this machine does not have)."""
    import socket

    if not 0 <= port <= 65535:
        raise LowlightError(f"--port must be between 0 and 65535, got {port}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        why = "is in use by another program" if exc.errno in (98, 48, 10048) else f"cannot be bound ({exc.strerror})"
        raise LowlightError(f"{host}:{port} {why}; choose another --port (or --host)") from None
    sock.set_inheritable(True)
    return sock


def serve(config: ServerConfig, host: str = "127.0.0.1", port: int = 8000,
          on_ready: Optional[Callable[[str], None]] = None) -> None:
    """Run the app under uvicorn until interrupted. Everything that can fail (the extra, the
    model, the port) is checked first; ``on_ready`` hears the URL once the socket is bound."""
    check_bind(host, config.api_key)
    _require()
    import uvicorn

    app = create_app(config)
    sock = bind(host, port)
    bound = sock.getsockname()[1]
    if on_ready is not None:
        on_ready(f"http://{'[' + host + ']' if ':' in host else host}:{bound}/")
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    server.run(sockets=[sock])
