#!/usr/bin/env bash
# Run on a GPU machine whose vLLM wheels were staged in /root/stash (see bench/RESULTS.md):
# installs vLLM and Ghostwriter's dependencies, then runs what $1 names: "bench", "test" or "both".
set -euo pipefail
what=${1:-both}; model=${GW_MODEL:-.gpu/kit/models/qwen2.5-coder-1.5b}; out=${OUT:-/tmp/gw-out}
mkdir -p "$out"
if ! PYTHONPATH=/tmp/site python3 -c "import vllm" 2>/dev/null; then bash .gpu/kit/install-on-device.sh; fi
if compgen -G ".gpu/ghost/*.whl" >/dev/null; then  # absent when an earlier call installed them
  python3 -m pip install -q --no-index --no-deps --target /tmp/gw-site .gpu/ghost/*.whl 2>&1 | tail -2 || true
fi
export PYTHONPATH=/tmp/site:/tmp/gw-site:$PWD HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 VLLM_NO_USAGE_STATS=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$out/gpu.txt"
if [ "$what" = bench ] || [ "$what" = both ]; then
  # GW_DEADLINE_S: stop the bench this many seconds after this script started (results so far are kept).
  limit=(); [ -n "${GW_DEADLINE_S:-}" ] && limit=(timeout $((GW_DEADLINE_S - SECONDS)))
  "${limit[@]}" python3 -m bench.vllm_bench --model "$model" --out "$out/vllm_bench.json" ${GW_BENCH_ARGS:-} \
    2> >(grep -v "Ignoring notification for unknown method" | tail -c 20000 > "$out/bench.stderr") \
    || echo "bench failed or was stopped: see bench.stderr"
  cp /tmp/gw-bench/phase1.log "$out/" 2>/dev/null || true
  sleep 1  # let the stderr filter finish writing
fi
if [ "$what" = test ] || [ "$what" = both ]; then
  GHOSTWRITER_GPU_MODEL="$model" GHOSTWRITER_GPU_DUMMY=1 python3 -m pytest -q -m gpu tests/gpu -p no:cacheprovider \
    2>&1 | tail -25 | tee "$out/gpu_test.txt"
fi
