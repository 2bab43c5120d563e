#!/usr/bin/env bash
# Every number in docs/MODEL.md, from the repository root on a machine with ../shared beside it:
#   bash bench/model_card.sh            # all steps
#   bash bench/model_card.sh evaluate   # only the tables, grid and latency (needs the trained runs)
# CPU: 2 x86-64 cores, fp32. The same commands use a CUDA GPU when one is present.
set -euo pipefail
SHARED=${SHARED:-../shared/datasets}
step=${1:-all}

if [[ $step == all ]]; then
  # Synthetic pairs: 8 darkenings of each training photo (never the 8 held-out ones), and
  # 4 of each held-out photo for testing.
  lowlight synth --photos "$SHARED/photos" --out runs/synth-photos --count 232 --size 512 --seed 1
  lowlight synth --photos "$SHARED/photos" --out runs/synth-photos-test --split test --count 32 --size 512 --seed 2
  # The default model: configs/gain-unet.json (LOL-v1 our485 minus 10% validation, + synth pairs).
  lowlight train --config configs/gain-unet.json
  # What ships: the best checkpoint by validation loss.
  cp runs/gain-unet/best.safetensors src/lowlight/weights/gain-unet.safetensors
fi

# Tables: LOL-v1 eval15 and the held-out photos, full resolution, plain PSNR/SSIM (GT-mean apart).
lowlight compare --data "$SHARED/LOL-v1" --methods identity gamma hist-eq clahe lime \
  --weights gain-unet=src/lowlight/weights/gain-unet.safetensors --gt-mean --grid 3 --out docs/model/lol-v1-eval15
lowlight compare --data runs/synth-photos-test --methods identity gamma hist-eq clahe lime \
  --weights gain-unet=src/lowlight/weights/gain-unet.safetensors --grid 3 --out docs/model/photos-test
# Real dark photos without references: the grid only.
lowlight compare --images "$SHARED"/real-lowlight/LIME/{1,3,8}.png "$SHARED"/real-lowlight/DICM/{03,13,25}.jpg \
  --methods gamma hist-eq clahe lime --weights gain-unet=src/lowlight/weights/gain-unet.safetensors \
  --cell 240 --out docs/model/real-lowlight
# Cost: parameters, GMACs at 600x400, CPU latency (2 threads, median of 20), weights size.
python bench/latency.py --models gain-unet sid-unet --repeats 20
ls -l src/lowlight/weights/gain-unet.safetensors
