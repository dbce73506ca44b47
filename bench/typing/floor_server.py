"""The floor: the least a language server can do for inline completion.

One `textDocument/inlineCompletion` handler that sends a plain Qwen FIM prompt (about 1,500 tokens
above the cursor and 500 below, cut at line starts) to an OpenAI-compatible engine for every
request and offers what comes back as it is: no cache, no gating, no debounce, no post-processing.

    python -m bench.typing.floor_server --base-url http://127.0.0.1:8000/v1 [--model M]
"""

from __future__ import annotations

import argparse

from lsprotocol import types
from openai import AsyncOpenAI
from pygls.lsp.server import LanguageServer

ABOVE, BELOW = 6000, 2000  # characters: ~1,500 and ~500 tokens at ~4 characters a token
STOP = ["<|endoftext|>", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"]


def prompt(text: str, offset: int) -> str:
    above = text[max(0, offset - ABOVE) : offset]
    if offset > ABOVE and "\n" in above:
        above = above[above.index("\n") + 1 :]
    below = text[offset : offset + BELOW]
    if len(text) - offset > BELOW and "\n" in below:
        below = below[: below.rindex("\n") + 1]
    return f"<|fim_prefix|>{above}<|fim_suffix|>{below}<|fim_middle|>"


def build(base_url: str, model: str, max_tokens: int) -> LanguageServer:
    server = LanguageServer("floor", "1")
    engine = AsyncOpenAI(base_url=base_url, api_key="unused", max_retries=0)

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION)
    async def inline_completion(params: types.InlineCompletionParams) -> types.InlineCompletionList:
        document = server.workspace.get_text_document(params.text_document.uri)
        offset = document.offset_at_position(params.position)
        reply = await engine.completions.create(model=model, prompt=prompt(document.source, offset),
                                                max_tokens=max_tokens, temperature=0, stop=STOP)
        text = reply.choices[0].text or ""
        here = types.Range(params.position, params.position)
        return types.InlineCompletionList(items=[types.InlineCompletionItem(text, range=here)] if text else [])

    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--max-tokens", type=int, default=64)
    args = parser.parse_args(argv)
    build(args.base_url, args.model, args.max_tokens).start_io()


if __name__ == "__main__":
    main()
