#!/usr/bin/env bash
# Next-edit benchmark on a GPU machine: the real Qwen2.5-Coder-1.5B-Instruct on vLLM 0.26. Stages (one
# `run` call each, see bench/RESULTS.md "Next-edit"), each inside one call's 10-minute limit:
#
#   bash bench/nes/gpu_run.sh setup     # the staged transfer in /root/p → vLLM, gguf, bf16 checkpoint
#   bash bench/nes/gpu_run.sh quality   # one engine: replay quality of every prompt (greedy), warms its compile cache
#   bash bench/nes/gpu_run.sh latency   # two engines at once, without and with n-gram speculation: latency in one run
#
# GW_EAGER=1 serves without torch.compile (starts ~2 minutes sooner, decodes slower): for the quality
# stage only, whose greedy answers do not depend on it; never for latency figures.
set -euo pipefail
stage=${1:-latency}; out=${OUT:-/tmp/gw-out}; kit=${GW_KIT:-/root/kit}; ckpt=${GW_CHECKPOINT:-/root/qwc15-real}
model=qwen2.5-coder-1.5b; spec_tokens=${GW_NGRAM_TOKENS:-8}
mkdir -p "$out"
export PYTHONPATH=/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH} HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 VLLM_NO_USAGE_STATS=1
if [ "$stage" = setup ]; then
  # The transfer: one tar stream (stash/ wheels, kit/, m/model.gguf) split into parts of one call each.
  if ls /root/p/part.* >/dev/null 2>&1; then cat /root/p/part.* | tar xf - -C /root && rm -rf /root/p; fi
  python3 -c "import vllm" 2>/dev/null || bash "$kit/install-on-device.sh"
  python3 -m pip install -q --no-index --no-deps --target /tmp/site /root/stash/gguf-*.whl 2>&1 | tail -1 || true
  [ -f "$kit/models/$model/tokenizer.json" ] || python3 -c "import lzma, shutil, sys
with lzma.open(sys.argv[1]) as src, open(sys.argv[1][:-3], 'wb') as dst: shutil.copyfileobj(src, dst)" \
    "$kit/models/$model/tokenizer.json.xz"
  if [ ! -f "$ckpt/config.json" ]; then
    sha256sum /root/m/model.gguf | cut -c1-16
    python3 -m bench.gguf_to_checkpoint --gguf /root/m/model.gguf --tokenizer-dir "$kit/models/$model" --out "$ckpt"
  fi
  ls -la "$ckpt" | tee "$out/checkpoint.txt"
  exit 0
fi
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$out/gpu.txt" || true
read -r -a engine <<< "${GW_VLLM:-python3 -m vllm.entrypoints.openai.api_server}"  # a stand-in for dry runs
serve() {  # port, log, extra args...
  local port=$1 log=$2; shift 2
  "${engine[@]}" --model "$ckpt" --served-model-name "$model" \
    --host 127.0.0.1 --port "$port" --max-model-len 8192 --gpu-memory-utilization 0.40 \
    --enable-prompt-tokens-details --chat-template bench/nes/chatml.jinja ${GW_EAGER:+--enforce-eager} "$@" >"$log" 2>&1 &
  echo $!
}
healthy() { python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$1/health')" 2>/dev/null; }
began=$SECONDS
wait_healthy() {  # port, pid, log
  until healthy "$1"; do kill -0 "$2" 2>/dev/null || { tail -30 "$3"; exit 1; }; sleep 2; done
}
keep_tails() { for f in "$out"/vllm-*.log; do tail -c 4000 "$f" > "${f%.log}.tail"; rm -f "$f"; done; }
if [ "$stage" = quality ]; then
  plain=$(serve 8011 "$out/vllm-off.log"); trap 'kill $plain 2>/dev/null || true' EXIT
  wait_healthy 8011 "$plain" "$out/vllm-off.log"
  echo "engine ready after $((SECONDS - began)) s" | tee "$out/startup-quality.txt"
  python3 -m bench.nes --base-url http://127.0.0.1:8011/v1 --model "$model" --out "$out/nes-quality.json" \
    --parallel 16 --variants history plain history-tags | tee "$out/quality.md"
  keep_tails; exit 0
fi
plain=$(serve 8011 "$out/vllm-off.log")
spec_json="{\"method\":\"ngram\",\"num_speculative_tokens\":$spec_tokens,\"prompt_lookup_max\":4,\"prompt_lookup_min\":2}"
trap 'kill $plain ${spec:-} 2>/dev/null || true' EXIT
# The second engine starts once the first has sized its KV cache (two profiling at once misjudge memory).
until grep -q "KV cache memory\|GPU KV cache size" "$out/vllm-off.log" 2>/dev/null || healthy 8011; do
  kill -0 $plain 2>/dev/null || { tail -30 "$out/vllm-off.log"; exit 1; }; sleep 2
done
spec=$(serve 8012 "$out/vllm-ngram.log" --speculative-config "$spec_json")
wait_healthy 8011 "$plain" "$out/vllm-off.log"; echo "engine without speculation ready after $((SECONDS - began)) s"
wait_healthy 8012 "$spec" "$out/vllm-ngram.log"; echo "engine with n-gram speculation ($spec_tokens tokens) ready after $((SECONDS - began)) s"
python3 -m bench.nes --skip-quality --model "$model" --latency-n ${GW_LATENCY_N:-40} \
  --latency off=http://127.0.0.1:8011/v1 "ngram$spec_tokens=http://127.0.0.1:8012/v1" --out "$out/nes-latency.json"
grep -i "speculative\|acceptance" "$out/vllm-ngram.log" | tail -5 > "$out/spec-metrics.txt" || true
keep_tails
