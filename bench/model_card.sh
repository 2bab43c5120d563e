#!/usr/bin/env bash
# Every number in docs/MODEL.md, from the repository root on a machine with ../shared beside it:
#   bash bench/model_card.sh            # all steps
#   bash bench/model_card.sh data       # synthetic pairs (needs data/LOL-v1 and data/sice-refs, see below)
#   bash bench/model_card.sh train      # the two training stages, then ship the best checkpoint
#   bash bench/model_card.sh evaluate   # only the tables, grids, checks and latency (needs the trained runs)
# CPU: 2 x86-64 cores, fp32. The same commands use a CUDA GPU when one is present.
#
# Data that is not in ../shared (see ../shared/datasets/README.md and docs/DATA.md):
#   git clone https://github.com/shayanravari/U-Net-LLIE /tmp/U-Net-LLIE   # or the search tool's fetch
#   python ../shared/datasets/lol_v1_unpack.py /tmp/U-Net-LLIE/.git data/LOL-v1   # all 485 + 15 pairs, checksummed
#   git clone https://github.com/Li-Chongyi/Zero-DCE_extension /tmp/Zero-DCE_extension
#   python bench/sice_references.py /tmp/Zero-DCE_extension/.git data/sice-refs    # 155 well-exposed SICE frames
#
# Tried, not shipped (docs/MODEL.md, "What is still wrong"): the low-key stages, from stage 2's best.
#   python bench/sice_references.py /tmp/Zero-DCE_extension/.git data/sice-lowkey --mean-luma 0.25 0.35 --max-dark 0.15
#   CUT=(--size 512 --exposure 0.02 0.35 --identity 0.25 --vary 0.3 --tint 0.3 --jpeg 0.5)
#   lowlight synth --photos ../shared/datasets/photos --out runs/synth-broad-4 --count 348 --seed 11 "${CUT[@]}" --lights 0.15
#   lowlight synth --photos data/sice-refs --out runs/synth-sice-4 --count 310 --seed 12 "${CUT[@]}" --lights 0.15
#   lowlight synth --photos data/sice-lowkey --out runs/synth-lowkey --count 124 --seed 13 --size 512 --identity 1 --jpeg 0.5
#   lowlight train --config configs/curve-unet-4.json; lowlight train --config configs/curve-unet-headroom.json
#   (the same two synth commands with --lights 0.3 into runs/synth-broad-6 and runs/synth-sice-6, then)
#   lowlight train --config configs/curve-unet-headroom-lamps.json
#
# Tried, not shipped (docs/MODEL.md): the very-dark stage (curve-unet shadows=true), from the shipped weights.
#   DARK=(--size 512 --exposure 0.01 0.06 --jpeg 0.8 --lights 0.3 --tint 0.3 --vary 0.2)
#   lowlight synth --photos ../shared/datasets/photos --out runs/synth-dark --count 232 --seed 21 "${DARK[@]}"
#   lowlight synth --photos data/sice-refs --out runs/synth-sice-dark --count 155 --seed 22 "${DARK[@]}"
#   lowlight train --config configs/curve-unet-dark.json    # its run: checkpoints/curve-unet-dark (--resume)
#   lowlight enhance ../shared/datasets/real-lowlight -r -o runs/dq/dark --ext png --weights runs/curve-unet-dark/best.safetensors
#   python ../shared/tools/darkq.py ../shared/datasets/real-lowlight runs/dq/dark
# Tried, not shipped (docs/MODEL.md): the base network fine-tuned on camera-JPEG LOL inputs.
#   lowlight train --config configs/curve-unet-jpeg.json
#   python bench/ship_night_stage.py runs/curve-unet-jpeg/best.safetensors runs/jpeg.safetensors --night-cap 0
#   lowlight evaluate --data data/LOL-v1 --gt-mean [--jpeg 85] --weights runs/jpeg.safetensors
# Tried, not shipped (docs/MODEL.md): the base network fine-tuned with LOL's brightness left out of the loss.
#   lowlight train --config configs/curve-unet-gtmean.json
#   python bench/ship_night_stage.py runs/curve-unet-gtmean/best.safetensors runs/gtm/curve-unet.safetensors
#   lowlight evaluate --data data/LOL-v1 --gt-mean [--jpeg 85] --weights runs/gtm/curve-unet.safetensors
# Tried, not shipped (docs/MODEL.md): less of the learned fine smoothing on nights with black in them.
#   python bench/ship_night_stage.py bench/weights/curve-unet-base.safetensors runs/night/fine50.safetensors --night-fine 0.5
#   lowlight enhance ../shared/datasets/real-lowlight -r -o runs/night/dq-fine50 --ext png --weights runs/night/fine50.safetensors
#   python ../shared/tools/darkq.py ../shared/datasets/real-lowlight runs/night/dq-fine50
#   python bench/glow.py --weights curve-unet fine50=curve-unet:runs/night/fine50.safetensors
#   (and the same with --luma-mix 0.8 into runs/night/lm80b.safetensors)
set -euo pipefail
SHARED=${SHARED:-../shared/datasets}
step=${1:-all}

case $step in all | data | train | evaluate) ;; *)
  echo "unknown step '$step': use all, data, train or evaluate" >&2; exit 2 ;;
esac
for need in data/LOL-v1/our485 data/sice-refs; do
  [[ -d $need ]] || { echo "missing $need: see the comment at the top of $0" >&2; exit 2; }
done

if [[ $step == all || $step == data ]]; then
  # Training pairs beside LOL: 12 per training photo and 2 per SICE reference, spanning every
  # exposure up to none at all (15% identity pairs), varying exposure across the frame (30%),
  # coloured light in the reference too (30%), camera JPEG (50%) and saturated lamps (15%).
  BROAD=(--size 512 --exposure 0.02 1 --identity 0.15 --vary 0.3 --tint 0.3 --jpeg 0.5 --lights 0.15)
  lowlight synth --photos "$SHARED/photos" --out runs/synth-broad --count 348 --seed 11 "${BROAD[@]}"
  lowlight synth --photos data/sice-refs --out runs/synth-sice --count 310 --seed 12 "${BROAD[@]}"
  # Held-out pairs (the 8 test photos, never trained on): plain, and with lamps in every pair.
  lowlight synth --photos "$SHARED/photos" --out runs/synth-photos-test --split test --count 32 --size 512 --seed 2
  lowlight synth --photos "$SHARED/photos" --out runs/synth-photos-test-lamps --split test --count 32 --size 512 \
    --seed 2 --lights 1
fi

if [[ $step == all || $step == train ]]; then
  # Stage 1: 14 epochs of a 45-epoch cosine schedule with the tone curve's top slope at 0.5.
  lowlight train --config configs/curve-unet.json
  # Stage 2: from stage 1's best, top slope 0.2 (the bundled value), lr 3e-4 over 22 epochs, 36 minutes at most.
  lowlight train --config configs/curve-unet-2.json
  # What ships: the best checkpoint by validation loss, its tone curves built at 1/4 resolution
  # (coarse_curve: the same parameters, outputs within 0.2/255, about half the time), and its ONNX twin.
  python bench/ship_weights.py runs/curve-unet-2/best.safetensors src/lowlight/weights/curve-unet.safetensors \
    --set coarse_curve=true
  lowlight export --model curve-unet --onnx src/lowlight/weights/curve-unet.onnx --overwrite
fi
[[ $step == train || $step == data ]] && exit 0

NEW=curve-unet=src/lowlight/weights/curve-unet.safetensors
OLD=gain-unet-v1=bench/weights/gain-unet-v1.safetensors   # the previous default, for comparison
# Tables: LOL-v1 eval15 and the held-out photos, full resolution, plain PSNR/SSIM (GT-mean apart).
lowlight compare --data data/LOL-v1 --methods identity gamma hist-eq clahe lime --weights $NEW $OLD \
  --gt-mean --grid 3 --out docs/model/lol-v1-eval15
lowlight compare --data runs/synth-photos-test --methods identity gamma clahe lime --weights $NEW $OLD \
  --grid 3 --out docs/model/photos-test
lowlight compare --data runs/synth-photos-test-lamps --methods identity gamma clahe lime --weights $NEW $OLD \
  --grid 3 --out docs/model/photos-test-lamps
# Do no harm on real photos (all 41 of real-lowlight/, every one saved for looking at 100% zoom).
python bench/real_photos.py --weights $NEW $OLD --methods gamma clahe lime --out docs/model/real-photos --save
# Flat in flat out, neutral grey, the held-out photos at their own exposure.
python bench/model_checks.py --weights $NEW $OLD
# Cost: parameters, GMACs at 600x400, CPU latency (2 threads, median of 20), weights size,
# then the whole enhance path per backend and thread count (docs/SPEED.md).
python bench/latency.py --models curve-unet gain-unet sid-unet --repeats 20
ls -l src/lowlight/weights/
lowlight benchmark --threads 1 2
