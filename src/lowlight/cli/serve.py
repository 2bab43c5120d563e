"""``lowlight serve``: the web page and HTTP API (FastAPI under uvicorn)."""

from __future__ import annotations

import argparse
import os


def add_parsers(sub) -> None:
    p = sub.add_parser("serve", help="a web page and an HTTP API (pip install 'lowlight[server]')",
                       description="Serve the bundled model (or --weights/--model) over HTTP: a page at / to "
                                   "drop photos on, POST /v1/enhance for applications, OpenAPI docs at /docs. "
                                   "Uploads are processed in memory and never stored.")
    p.add_argument("--host", default="127.0.0.1", help="address to bind; beyond loopback needs --api-key [127.0.0.1]")
    p.add_argument("--port", type=int, default=8000, help="[8000]")
    p.add_argument("--workers", type=int, default=1, help="photos enhanced at once [1]")
    p.add_argument("--queue", type=int, default=8, help="requests waiting beyond those; more get 503 [8]")
    p.add_argument("--max-upload-mb", type=float, default=50.0, help="largest upload [50]")
    p.add_argument("--max-pixels", type=float, default=50e6, help="largest image in pixels [50e6]")
    p.add_argument("--api-key", help="require 'Authorization: Bearer KEY' on /v1 and /metrics "
                                     "[$LOWLIGHT_API_KEY]")
    p.add_argument("--cors-origin", action="append", metavar="ORIGIN",
                   help="allow this origin to call the API from a browser (repeatable) [CORS off]")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--weights", metavar="FILE", help="a .safetensors or .onnx file [bundled]")
    g.add_argument("--model", metavar="NAME", help="a registered model with bundled weights [the default]")
    p.add_argument("--backend", choices=["torch", "onnx"], help="[torch]")
    p.add_argument("--threads", type=int, metavar="N", help="CPU threads in all, shared by the workers [all cores]")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda [auto]")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..server.app import ServerConfig, check_bind, serve

    key = args.api_key or os.environ.get("LOWLIGHT_API_KEY") or None
    check_bind(args.host, key)  # before loading anything
    cfg = ServerConfig(model=args.weights or args.model, workers=args.workers, queue=args.queue,
                       max_upload_mb=args.max_upload_mb, max_pixels=args.max_pixels, api_key=key,
                       cors_origins=tuple(args.cors_origin or ()), threads=args.threads, backend=args.backend,
                       device=args.device).validate()
    serve(cfg, args.host, args.port,
          on_ready=lambda url: print(f"lowlight: serving on {url} (API docs at {url}docs); Ctrl-C stops", flush=True))
    return 0
