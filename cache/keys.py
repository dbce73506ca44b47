"""Cache keys: a hash of everything that changes a model's output, and nothing that doesn't.

The API key, headers and timeouts are deliberately absent: they never change the text, and a
key must never be derivable from (or stored in) the cache.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

# Bump when the stored value's shape changes.
CACHE_FORMAT = 1


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
        "prompt": prompt,
        "messages": [dict(m) for m in messages],
        "params": dict(params),
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
