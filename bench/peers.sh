#!/usr/bin/env bash
# Every number in docs/PEERS.md, from the repository root with ../shared beside it:
#   bash bench/peers.sh
# Needs data/LOL-v1 (../shared/datasets/README.md: fetch github:shayanravari/U-Net-LLIE, then
# lol_v1_unpack.py) and the held-out synthetic pairs runs/synth-photos-test (bash bench/model_card.sh data).
# CPU: 2 x86-64 cores, fp32. The peers run with the authors' own files from ../shared/peers.
set -euo pipefail
P=${PEERS:-../shared/peers}
REAL=../shared/datasets/real-lowlight
for need in data/LOL-v1/eval15 runs/synth-photos-test runs/synth-photos-test-lamps "$P/iat/best_Epoch_lol_v1.pth"; do
  [[ -e $need ]] || { echo "missing $need: see the comment at the top of $0" >&2; exit 2; }
done
# NAME=MODEL:FILE, as `lowlight compare --weights` and bench/real_photos.py take them.
PEERS=("IAT=iat:$P/iat/best_Epoch_lol_v1.pth" "SCI=sci:$P/sci/medium.pt" "Zero-DCE=zero-dce:$P/zero-dce/Epoch99.pth"
       "Zero-DCE++=zero-dce++:$P/zero-dce-pp/Epoch99.pth")
OURS=(curve-unet)
[[ -f src/lowlight/weights/lol-v1.safetensors ]] && OURS+=(lol-v1)

# Reference sets: LOL-v1 eval15 (plain and GT-mean) and the held-out synthetic photos.
lowlight compare --data data/LOL-v1 --methods "${OURS[@]}" gamma clahe lime --weights "${PEERS[@]}" \
  --gt-mean --grid 4 --out docs/peers/lol-v1-eval15
lowlight compare --data runs/synth-photos-test --methods "${OURS[@]}" gamma clahe lime --weights "${PEERS[@]}" \
  --grid 3 --out docs/peers/photos-test
# Real photos without references: do no harm on the ones that are not dark...
python bench/real_photos.py --weights "${OURS[@]}" "${PEERS[@]}" --methods gamma clahe lime --out runs/peers/real-photos
cp runs/peers/real-photos/summary.md docs/peers/real-photos.md
# ... and how clean the dark ones' deep shadows come out (../shared/tools/darkq.py).
darkq() {  # NAME then the enhance flags
  local name=$1; shift
  rm -rf "runs/peers/dark/$name"  # enhance keeps existing outputs: a changed model must not be scored on old ones
  lowlight enhance "$REAL" -r -o "runs/peers/dark/$name" --ext png -q "$@"
  printf '%s: ' "$name"; python ../shared/tools/darkq.py "$REAL" "runs/peers/dark/$name"
}
{
  for m in "${OURS[@]}"; do darkq "$m" --model "$m"; done
  darkq IAT --model iat --weights "$P/iat/best_Epoch_lol_v1.pth"
  darkq SCI --model sci --weights "$P/sci/medium.pt"
  darkq Zero-DCE --model zero-dce --weights "$P/zero-dce/Epoch99.pth"
  darkq Zero-DCE++ --model zero-dce++ --weights "$P/zero-dce-pp/Epoch99.pth"
  for m in gamma clahe lime; do darkq "$m" --method "$m"; done
} | tee docs/peers/darkq.txt
# eval15 under the report's protocol (150x150) and with camera-JPEG inputs, beside full resolution.
python bench/eval15_protocols.py --weights "${OURS[@]}" "${PEERS[@]}" | tee docs/peers/eval15-protocols.md
# Glow around lights in dark frames (the synthetic lamps pairs and the real photos).
python bench/glow.py --weights "${OURS[@]}" "${PEERS[@]}" --methods gamma \
  --sets runs/synth-photos-test-lamps/low "$REAL" | tee docs/peers/glow.md
# Cost: parameters, GMACs and the bare network's CPU latency at 600x400, 2 threads (weights do not matter).
python bench/latency.py --threads 2 --repeats 10 --models "${OURS[@]}" iat sci zero-dce zero-dce++ | tee docs/peers/latency.md
python bench/peer_checks.py | tee docs/peers/checks.md
