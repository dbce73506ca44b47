"""Cache keys: a hash of everything that changes a model's output, and nothing that doesn't.

The API key, headers and timeouts are deliberately absent: they never change the text, and a
key must never be derivable from (or stored in) the cache.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

# Bump when the stored value's shape or the key's recipe changes.
CACHE_FORMAT = 2


def cache_key(
    *,
    prompt_version: int,
    backend_id: str,
    model: str,
    prompt: str | None,
    messages: Sequence[Mapping[str, Any]],
    params: Mapping[str, Any],
) -> str:
    payload = {
        "format": CACHE_FORMAT,
        "promptVersion": prompt_version,
        "backend": backend_id,
        "model": model,
        "prompt": prompt is not None,
        "messages": [dict(m) for m in messages],
        "params": dict(params),
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode("utf-8", "surrogatepass"))
    # The prompt (several KB on every keystroke) is hashed as raw bytes after the rest: escaping it
    # into JSON cost more than the hash. The JSON part has a fixed end ("}"), so the two cannot blur.
    if prompt is not None:
        digest.update(prompt.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()
