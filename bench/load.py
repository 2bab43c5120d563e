"""Load test of `lowlight serve` on loopback: N concurrent clients, bounded in count and time.

    python bench/load.py [--clients 8] [--requests 64] [--large-requests 6] [--workers 1] [--queue 16]

Starts the server (bundled model) on a free loopback port, then posts a 600x400 dark photo
from N client threads (--requests in all) and a 12-megapixel one (--large-requests, 2 clients).
Prints throughput, p50/p95/p99 latency, 503 answers, other errors (must be 0) and the server's
peak memory (VmHWM), and for comparison the single-process images per second of the same
600x400 photo through lowlight.enhance.
"""

from __future__ import annotations

import argparse
import io
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
from PIL import Image


def dark_png(width: int, height: int, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    base = np.asarray(Image.open(Path(__file__).resolve().parents[1] / "samples" / "dark" / "lime-3.png")
                      .convert("RGB").resize((width, height)))
    noisy = np.clip(base.astype(int) + rng.integers(-2, 3, base.shape), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noisy).save(buf, format="PNG")
    return buf.getvalue()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def hammer(url: str, body: bytes, clients: int, total: int, deadline: float) -> dict:
    import httpx

    lock, latencies, codes = threading.Lock(), [], []
    left = [total]

    def client():
        with httpx.Client(timeout=300) as c:
            while True:
                with lock:
                    if left[0] <= 0 or time.monotonic() > deadline:
                        return
                    left[0] -= 1
                t = time.perf_counter()
                r = c.post(url, files={"file": ("dark.png", body, "image/png")})
                with lock:
                    codes.append(r.status_code)
                    if r.status_code == 200:
                        latencies.append(time.perf_counter() - t)
                if r.status_code == 503:
                    time.sleep(float(r.headers.get("retry-after", "1")) * 0.2)

    start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    ok = len(latencies)
    q = statistics.quantiles(latencies, n=100) if ok >= 2 else [float("nan")] * 99
    return {"ok": ok, "busy": codes.count(503), "errors": sum(c not in (200, 503) for c in codes),
            "per_s": ok / wall, "p50": q[49], "p95": q[94], "p99": q[98], "wall": wall}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--requests", type=int, default=64)
    ap.add_argument("--large-requests", type=int, default=6)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--queue", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=300, help="stop each phase after this long [300]")
    args = ap.parse_args()

    import lowlight

    small, large = dark_png(600, 400), dark_png(4000, 3000, seed=1)
    model = lowlight.load_model(device="cpu")
    arr = np.asarray(Image.open(io.BytesIO(small)).convert("RGB"))
    lowlight.enhance(arr, model)
    t = time.perf_counter()
    for _ in range(10):
        lowlight.enhance(arr, model)
    single = 10 / (time.perf_counter() - t)
    del model

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "lowlight", "serve", "--port", str(port), "--workers",
                             str(args.workers), "--queue", str(args.queue)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        url = base + "/v1/enhance"
        s = hammer(url, small, args.clients, args.requests, time.monotonic() + args.seconds)
        rss_small = peak_rss_mb(proc.pid)
        big = hammer(url, large, 2, args.large_requests, time.monotonic() + args.seconds)
        rss = peak_rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)
    print(f"server: --workers {args.workers} --queue {args.queue}; single-process lowlight.enhance on the "
          f"600x400 photo: {single:.2f} images/s")
    print("| upload | clients | images | images/s | share of single-process | p50 s | p95 s | p99 s | 503 | "
          "errors | peak server memory |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print(f"| 600x400 PNG | {args.clients} | {s['ok']} | {s['per_s']:.2f} | {s['per_s'] / single:.0%} | "
          f"{s['p50']:.2f} | {s['p95']:.2f} | {s['p99']:.2f} | {s['busy']} | {s['errors']} | {rss_small:.0f} MB |")
    print(f"| 4000x3000 PNG | 2 | {big['ok']} | {big['per_s']:.3f} | - | {big['p50']:.1f} | {big['p95']:.1f} | "
          f"{big['p99']:.1f} | {big['busy']} | {big['errors']} | {rss:.0f} MB |")
    return 0 if s["errors"] == 0 and big["errors"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
