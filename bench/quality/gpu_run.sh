#!/usr/bin/env bash
# The real-model quality run on a GPU machine: serve a checkpoint with vLLM on loopback, then
# answer the holes twice: every variant in parallel for quality, then a sequential pass for
# latency (one request at a time, as one user types). vLLM and Ghostwriter's dependencies must already be
# importable (PYTHONPATH); the corpus folder holds the pinned sdists (no network needed).
#
#   bash bench/quality/gpu_run.sh CHECKPOINT_DIR CORPUS_DIR OUT_DIR
set -euo pipefail
checkpoint=$1 corpus=$2 out=$3
model=qwen2.5-coder-1.5b port=${GW_VLLM_PORT:-8011}
mkdir -p "$out"
python3 -m vllm.entrypoints.openai.api_server --model "$checkpoint" --served-model-name "$model" \
  --host 127.0.0.1 --port "$port" --max-model-len 8192 --gpu-memory-utilization 0.85 \
  --enable-prompt-tokens-details >"$out/vllm.log" 2>&1 &
vllm=$!
trap 'kill $vllm 2>/dev/null || true' EXIT
began=$(date +%s)
until python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/health')" 2>/dev/null; do
  kill -0 $vllm 2>/dev/null || { tail -40 "$out/vllm.log"; exit 1; }
  sleep 2
done
echo "vLLM ready in $(( $(date +%s) - began )) s"
url=http://127.0.0.1:$port/v1
python3 -m bench.quality --base-url "$url" --model "$model" --corpus-dir "$corpus" --block-max-tokens 256 \
  --parallel "${GW_PARALLEL:-16}" --out "$out/quality.json"
python3 -m bench.quality --base-url "$url" --model "$model" --corpus-dir "$corpus" --block-max-tokens 256 \
  --variants plain,ghostwriter --per-kind ${GW_LATENCY_PER_KIND:-2} --parallel 1 --out "$out/latency.json" | tail -12
