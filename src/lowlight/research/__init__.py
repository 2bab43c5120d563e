"""Measuring models: PSNR and SSIM (metrics), evaluation on pairs, side-by-side comparison,
speed benchmarks."""
