#!/usr/bin/env bash
# Every number in docs/MODEL.md, from the repository root on a machine with ../shared beside it:
#   bash bench/model_card.sh            # all steps
#   bash bench/model_card.sh train      # synthetic pairs, the three training stages, ship the best checkpoint
#   bash bench/model_card.sh budget     # the equal-time runs, then the tables
#   bash bench/model_card.sh evaluate   # only the tables, grid and latency (needs the trained runs)
# CPU: 2 x86-64 cores, fp32. The same commands use a CUDA GPU when one is present.
set -euo pipefail
SHARED=${SHARED:-../shared/datasets}
step=${1:-all}

case $step in all | train | budget | evaluate) ;; *)
  echo "unknown step '$step': use all, train, budget or evaluate" >&2; exit 2 ;;
esac

if [[ $step == all || $step == train ]]; then
  # Synthetic pairs: 8 darkenings of each training photo (never the 8 held-out ones), and
  # 4 of each held-out photo for testing; then 8 more of each training photo, 70% saved as JPEG
  # (stage 3); and the test pairs' parameters again, every dark image saved as JPEG, and once
  # more with lamps that saturate the dark frame in every pair.
  lowlight synth --photos "$SHARED/photos" --out runs/synth-photos --count 232 --size 512 --seed 1
  lowlight synth --photos "$SHARED/photos" --out runs/synth-photos-test --split test --count 32 --size 512 --seed 2
  lowlight synth --photos "$SHARED/photos" --out runs/synth-photos-jpeg --count 232 --size 512 --seed 3 --jpeg 0.7
  lowlight synth --photos "$SHARED/photos" --out runs/synth-photos-test-jpeg --split test --count 32 --size 512 \
    --seed 2 --jpeg 1
  lowlight synth --photos "$SHARED/photos" --out runs/synth-photos-test-lamps --split test --count 32 --size 512 \
    --seed 2 --lights 1
  # The default model, stage 1: configs/gain-unet.json (LOL-v1 our485 minus 10% validation, + synth pairs).
  lowlight train --config configs/gain-unet.json
  # Stage 2: grow the thumbnail branch and fine-tune from stage 1 (configs/gain-unet-thumb.json).
  lowlight train --config configs/gain-unet-thumb.json
  # Stage 3: 10 minutes on LOL + the JPEG-compressed synthetic pairs (configs/gain-unet-jpeg.json).
  lowlight train --config configs/gain-unet-jpeg.json
  # What ships: the best checkpoint by validation loss, and its ONNX twin.
  cp runs/gain-unet-jpeg/best.safetensors src/lowlight/weights/gain-unet.safetensors
  lowlight export --onnx src/lowlight/weights/gain-unet.onnx --overwrite
fi

if [[ $step == all || $step == budget ]]; then
  # Equal training time: 8 minutes of training (validation excluded) each, same data and crops.
  # seed-unet keeps the report's tuned optimiser (lr 5e-4, MSE, plateau): at lr 1e-3 it collapses.
  for m in gain-unet sid-unet; do
    lowlight train --config configs/gain-unet.json --model $m --max-minutes 8 --out runs/budget8-$m --overwrite
  done
  lowlight train --config configs/gain-unet.json --model seed-unet --lr 5e-4 --loss mse --scheduler plateau \
    --max-minutes 8 --out runs/budget8-seed-unet --overwrite
fi
[[ $step == train ]] && exit 0
BUDGET=(gain-unet-8min=runs/budget8-gain-unet/best.safetensors sid-unet-8min=runs/budget8-sid-unet/best.safetensors
        seed-unet-8min=runs/budget8-seed-unet/best.safetensors)

# Tables: LOL-v1 eval15 and the held-out photos, full resolution, plain PSNR/SSIM (GT-mean apart).
lowlight compare --data "$SHARED/LOL-v1" --methods identity gamma hist-eq clahe lime \
  --weights gain-unet=src/lowlight/weights/gain-unet.safetensors "${BUDGET[@]}" --gt-mean --grid 3 \
  --out docs/model/lol-v1-eval15
lowlight compare --data runs/synth-photos-test --methods identity gamma hist-eq clahe lime \
  --weights gain-unet=src/lowlight/weights/gain-unet.safetensors "${BUDGET[@]}" --grid 3 --out docs/model/photos-test
lowlight compare --data runs/synth-photos-test-jpeg --methods identity gamma hist-eq clahe lime \
  --weights gain-unet=src/lowlight/weights/gain-unet.safetensors "${BUDGET[@]}" --grid 0 --out docs/model/photos-test-jpeg
lowlight compare --data runs/synth-photos-test-lamps --methods identity gamma hist-eq clahe lime \
  --weights gain-unet=src/lowlight/weights/gain-unet.safetensors "${BUDGET[@]}" --grid 3 --out docs/model/photos-test-lamps
# Real dark photos without references: the grid only.
lowlight compare --images "$SHARED"/real-lowlight/LIME/{1,3,8}.png "$SHARED"/real-lowlight/DICM/{03,13,25}.jpg \
  --methods gamma hist-eq clahe lime --weights gain-unet=src/lowlight/weights/gain-unet.safetensors \
  --cell 240 --out docs/model/real-lowlight
# Cost: parameters, GMACs at 600x400, CPU latency (2 threads, median of 20), weights size;
# then the whole enhance path per backend and thread count (docs/SPEED.md).
python bench/latency.py --models gain-unet sid-unet --repeats 20
# Where the LOL error comes from: brightness vs detail, scenes with and without training pairs nearby.
python bench/lol_brightness.py --data "$SHARED/LOL-v1"
ls -l src/lowlight/weights/gain-unet.safetensors src/lowlight/weights/gain-unet.onnx
lowlight benchmark --threads 1 2
