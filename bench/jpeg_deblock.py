"""What a camera JPEG costs the default model on eval15, and how much of it is 8x8 blocks.

    python bench/jpeg_deblock.py --data data/LOL-v1 [--weights FILE] [--quality 85]

Scores the model (GT-mean PSNR / SSIM, as `lowlight evaluate --gt-mean`) on eval15's dark inputs
as PNG, then saved as JPEG at QUALITY with 4:2:0 chroma (as `lowlight evaluate --jpeg` and phones
do), with 4:4:4 chroma (how much is the halved chroma), at quality 97 (how much is any JPEG at
all), and 4:2:0 decoded with a deblocking that knows the file: smoothing alternated with
projection back onto the set of images whose 8x8 DCT coefficients round to the ones stored
(POCS, Zakhor 1992; Y at full size, Cb and Cr at half), using the file's own quantisation tables.
If the loss were block edges, the deblocked row would win most of it back; if it is detail and
noise the quantiser removed, nothing at decode time can.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from scipy.ndimage import gaussian_filter

from lowlight.core.enhancer import load_model
from lowlight.errors import LowlightError
from lowlight.media.pairs import find_pairs
from lowlight.media.photo import read_image, to_tensor, to_uint8
from lowlight.research.evaluation import score

#: JFIF's RGB -> YCbCr (without the 128 offset, which the projection does not need).
YCC = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])


def _dct_matrix(n: int = 8) -> np.ndarray:
    k = np.arange(n)
    c = np.cos(np.pi * (2 * k[None, :] + 1) * k[:, None] / (2 * n)) * np.sqrt(2.0 / n)
    c[0] /= np.sqrt(2.0)
    return c


DCT = _dct_matrix()


def _blocks(a: np.ndarray) -> np.ndarray:
    h, w = a.shape
    return a.reshape(h // 8, 8, w // 8, 8).transpose(0, 2, 1, 3)


def _unblocks(b: np.ndarray) -> np.ndarray:
    return b.transpose(0, 2, 1, 3).reshape(b.shape[0] * 8, b.shape[1] * 8)


def pocs(plane: np.ndarray, table: np.ndarray, iters: int = 5, sigma: float = 1.0) -> np.ndarray:
    """``plane`` smoothed and projected back onto its quantisation cells ``iters`` times."""
    h, w = plane.shape
    x = np.pad(plane, ((0, -h % 8), (0, -w % 8)), mode="edge")
    stored = np.round(DCT @ _blocks(x) @ DCT.T / table)
    lo, hi = (stored - 0.5) * table, (stored + 0.5) * table
    for _ in range(iters):
        x = gaussian_filter(x, sigma, mode="nearest")
        x = _unblocks(DCT.T @ np.clip(DCT @ _blocks(x) @ DCT.T, lo, hi) @ DCT)
    return x[:h, :w]


def deblocked(jpeg: bytes) -> np.ndarray:
    """The decoded JPEG (4:2:0) with POCS deblocking, float RGB in [0, 1] (no rounding: the model
    sees what the projection gives)."""
    im = Image.open(io.BytesIO(jpeg))
    tables = {k: np.array(v, dtype=np.float64).reshape(8, 8) for k, v in im.quantization.items()}
    rgb = np.asarray(im.convert("RGB"), np.float64)
    ycc = rgb @ YCC.T
    new = ycc.copy()
    new[..., 0] = pocs(ycc[..., 0], tables[0])
    h, w = ycc.shape[0] // 2 * 2, ycc.shape[1] // 2 * 2
    for ch in (1, 2):
        half = ycc[:h, :w, ch].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
        delta = np.repeat(np.repeat(pocs(half, tables[1]) - half, 2, 0), 2, 1)
        new[:h, :w, ch] += delta
    return np.clip(rgb + (new - ycc) @ np.linalg.inv(YCC).T, 0.0, 255.0) / 255.0


def _jpeg(image: np.ndarray, quality: int, subsampling: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=quality, subsampling=subsampling)
    return buf.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("data/LOL-v1"))
    parser.add_argument("--weights", default=None, help="a weights file [the bundled default]")
    parser.add_argument("--quality", type=int, default=85)
    args = parser.parse_args()
    model = load_model(args.weights)

    def run(x: np.ndarray | torch.Tensor) -> np.ndarray:
        with torch.no_grad():
            return to_uint8(model.process(x.float() if isinstance(x, torch.Tensor) else to_tensor(x)))

    def decoded(data: bytes) -> np.ndarray:
        return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))

    q = args.quality
    inputs = {
        "PNG": lambda low: low,
        f"JPEG q{q} 4:2:0": lambda low: decoded(_jpeg(low, q, 2)),
        f"JPEG q{q} 4:4:4": lambda low: decoded(_jpeg(low, q, 0)),
        "JPEG q97 4:2:0": lambda low: decoded(_jpeg(low, 97, 2)),
        f"JPEG q{q} 4:2:0, deblocked": lambda low: torch.from_numpy(deblocked(_jpeg(low, q, 2))).permute(2, 0, 1)[None],
    }
    try:
        pairs = find_pairs(args.data, "test")
    except LowlightError as err:
        raise SystemExit(f"error: {err}") from None
    print(f"{args.data} (test, {len(pairs)} pairs), {model.name}: GT-mean PSNR (dB) / SSIM by input\n")
    print("| input | GT-mean PSNR | GT-mean SSIM |")
    print("|---|---|---|")
    for name, make in inputs.items():
        rows = [score(run(make(read_image(p.low))), read_image(p.high), gt_mean=True) for p in pairs]
        print(f"| {name} | {np.mean([r['psnr_gtmean'] for r in rows]):.2f} "
              f"| {np.mean([r['ssim_gtmean'] for r in rows]):.3f} |")


if __name__ == "__main__":
    main()
