"""Small, dependency-free helpers for the vLLM supervisor: environment checks, health, progress.

Nothing here imports vllm or torch; the interpreter that will run the engine is asked instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

_FIND_VLLM = "import importlib.util, sys; sys.exit(importlib.util.find_spec('vllm') is None)"

# Log lines of a starting engine → (what to tell the user, rough percent).
_PROGRESS_HINTS: tuple[tuple[str, str, int], ...] = (
    ("Starting to load model", "Loading model weights", 10),
    ("Loading weights took", "Weights loaded", 40),
    ("Model loading took", "Weights loaded", 40),
    ("torch.compile", "Compiling the model (the first start takes a few minutes)", 50),
    ("KV cache", "Allocating the KV cache", 70),
    ("Capturing CUDA graph", "Capturing CUDA graphs", 80),
    ("Starting vLLM API server", "Starting the API server", 95),
)


def check_environment(python: str = sys.executable) -> str | None:
    """A plain message saying why the bundled vLLM cannot run here, or None when it can."""
    try:
        probe = subprocess.run([python, "-c", _FIND_VLLM], capture_output=True, timeout=60)
    except (FileNotFoundError, PermissionError):
        return f"The Python interpreter for vLLM was not found: {python}"
    except subprocess.TimeoutExpired:
        return f"The Python interpreter for vLLM did not answer within 60 s: {python}"
    if probe.returncode != 0:
        where = "" if python == sys.executable else f" (in {python})"
        return f"vLLM is not installed{where}: pip install 'ghostwriter[vllm]'"
    if not gpu_visible():
        return (
            "No CUDA GPU is visible, and the bundled vLLM needs an NVIDIA GPU. "
            "Use a remote OpenAI-compatible backend instead"
        )
    return None


def gpu_visible() -> bool:
    """Whether an NVIDIA GPU is visible, without importing torch (seconds and gigabytes)."""
    if os.environ.get("CUDA_VISIBLE_DEVICES") in ("", "-1"):
        return False
    smi = shutil.which("nvidia-smi")
    if smi is not None:
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            listing = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=15)
            if listing.returncode == 0 and "GPU" in listing.stdout:
                return True
    gpus = Path("/proc/driver/nvidia/gpus")
    return gpus.is_dir() and any(gpus.iterdir())


def parallel_args(tensor_parallel: int = 1, data_parallel: int = 1, expert_parallel: bool = False) -> list[str]:
    """Engine arguments for spreading one model over several GPUs."""
    if tensor_parallel < 1 or data_parallel < 1:
        raise ValueError("tensor and data parallel sizes must be at least 1")
    args: list[str] = []
    if tensor_parallel > 1:
        args += ["--tensor-parallel-size", str(tensor_parallel)]
    if data_parallel > 1:
        args += ["--data-parallel-size", str(data_parallel)]
    if expert_parallel:
        args.append("--enable-expert-parallel")
    return args


def speculation_args(ngram_tokens: int, lookup_max: int = 4) -> list[str]:
    """Engine arguments for prompt-lookup (n-gram) speculative decoding; none when `ngram_tokens` is 0.

    Drafts come from the prompt itself (no draft model): text the answer copies from the prompt,
    like a rewritten region that keeps most of its lines, is verified several tokens a step.
    """
    if ngram_tokens <= 0:
        return []
    config = {"method": "ngram", "num_speculative_tokens": ngram_tokens, "prompt_lookup_max": lookup_max,
              "prompt_lookup_min": 2}
    return ["--speculative-config", json.dumps(config, separators=(",", ":"))]


def progress_hint(line: str) -> tuple[str, int | None] | None:
    for needle, message, percent in _PROGRESS_HINTS:
        if needle in line:
            return message, percent
    return None


async def health_ok(host: str, port: int, timeout: float = 2.0) -> bool:
    """GET /health answered 200. A bare socket keeps the poll cheap and free of client libraries."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, asyncio.TimeoutError):
        return False
    try:
        writer.write(f"GET /health HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
        await writer.drain()
        # The engine binds its socket before it can answer, so a read may hang: bound it.
        status_line = await asyncio.wait_for(reader.readline(), timeout)
        return status_line.split()[1:2] == [b"200"]
    except (OSError, asyncio.TimeoutError):
        return False
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
