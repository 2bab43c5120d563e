"""Figures for people who would rather look than read: metrics over epochs."""

from __future__ import annotations

from pathlib import Path

from ..media.files import atomic_write


def plot_history(rows: list[dict], path: Path, title: str = "Validation PSNR over epochs") -> Path:
    """PSNR (left axis) and SSIM (right axis) of the best ensemble member per epoch, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [r["epoch"] for r in rows]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=120)
    ax.plot(epochs, [r["psnr"] for r in rows], marker="o", color="tab:blue", label="PSNR")
    ax.set_xlabel("epoch")
    ax.set_ylabel("PSNR (dB, full resolution)", color="tab:blue")
    ax.grid(True, alpha=0.3)
    ax2 = ax.twinx()
    ax2.plot(epochs, [r["ssim"] for r in rows], marker="s", color="tab:orange", label="SSIM")
    ax2.set_ylabel("SSIM", color="tab:orange")
    ax.set_title(title)
    fig.tight_layout()
    atomic_write(Path(path), lambda tmp: fig.savefig(tmp, format="png"))
    plt.close(fig)
    return Path(path)
