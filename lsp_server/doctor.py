"""`ghostwriter doctor`: print the resolved settings (secrets masked) and check the backend.

Exit code 0 when a completion could be served right now, 1 otherwise, with what to fix in plain words.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from lsp_server.backends.router import NO_BACKEND_MESSAGE, cuda_gpu_present, effective_kind
from lsp_server.errors import BackendError
from lsp_server.settings import Settings, env_settings, read_config_file, resolve, to_wire


def load_settings(arg: str | None) -> tuple[Settings, list[str]]:
    file_layer, file_errors = read_config_file()
    extra: Any = None
    if arg:
        text = Path(arg).read_text(encoding="utf-8") if Path(arg).is_file() else arg
        extra = json.loads(text)
    settings, errors = resolve(file_layer, env_settings(), extra)
    return settings, file_errors + errors


def masked(settings: Settings) -> dict[str, Any]:
    wire = to_wire(settings)
    key_env = settings.backend.api_key_env
    if key_env:
        wire["backend"]["apiKeyEnv"] = f"{key_env} ({'set' if settings.api_key() else 'NOT SET'})"
    return wire


def run_doctor(arg: str | None, out: Any = None) -> int:
    out = out or sys.stdout
    try:
        settings, errors = load_settings(arg)
    except (OSError, ValueError) as exc:
        print(f"✗ cannot read --settings: {exc}", file=out)
        return 1
    print("Resolved settings (section 'ghostwriter'):", file=out)
    print(json.dumps(masked(settings), indent=2), file=out)
    for error in errors:
        print(f"✗ setting: {error}", file=out)
    print(f"• cache dir: {settings.cache_dir}", file=out)
    ok = asyncio.run(check_backend(settings, out))
    print("✓ ready to serve" if ok and not errors else "✗ not ready: fix the lines marked ✗ above", file=out)
    return 0 if ok else 1


async def check_backend(settings: Settings, out: Any) -> bool:
    kind = effective_kind(settings)
    if kind == "none" or (kind == "openai" and not settings.backend.base_url):
        print(f"✗ backend: {NO_BACKEND_MESSAGE}", file=out)
        return False
    if kind == "vllm":
        return check_bundled(settings, out)
    return await check_remote(settings, out)


def check_bundled(settings: Settings, out: Any) -> bool:
    from lsp_server.backends.vllm_supervisor import check_environment

    problem = check_environment(settings.backend.vllm.python or sys.executable)
    gpu = cuda_gpu_present()
    model = settings.backend.vllm.model or "(default)"
    print(f"• bundled vLLM: model {model}; CUDA GPU {'found' if gpu else 'not found'}", file=out)
    if problem:
        print(f"✗ bundled vLLM: {problem}", file=out)
        return False
    print("✓ bundled vLLM can start (startup takes 1.5–4 minutes on first use)", file=out)
    return True


async def check_remote(settings: Settings, out: Any) -> bool:
    from context.fim import detect_template
    from lsp_server.backends.openai_compat import OpenAICompatBackend

    url = settings.backend.base_url
    if settings.backend.api_key_env and not settings.api_key():
        print(f"✗ API key: environment variable {settings.backend.api_key_env} is not set", file=out)
    backend = OpenAICompatBackend("openai", url, settings.api_key(), min(settings.backend.timeout_ms / 1000, 10.0),
                                  api_key_source=f"${settings.backend.api_key_env}")
    try:
        models = await backend.list_models()
    except BackendError as error:
        print(f"✗ backend {url}: {error.user_message}", file=out)
        return False
    finally:
        await backend.aclose()
    print(f"✓ backend {url} is reachable; models: {', '.join(models[:8]) or '(none listed)'}", file=out)
    return report_models(settings, models, detect_template, out)


def report_models(settings: Settings, models: list[str], detect_template: Any, out: Any) -> bool:
    ok = True
    for role, name in (("completion", settings.completion_model), ("chat", settings.backend.model)):
        if not name:
            key = "completionModel" if role == "completion" else "model"
            print(f"✗ {role} model: not set (ghostwriter.backend.{key})", file=out)
            ok = False
        elif models and name not in models:
            print(f"✗ {role} model '{name}' is not listed by the backend; available: {', '.join(models[:8])}",
                  file=out)
            ok = False
        else:
            print(f"✓ {role} model: {name}", file=out)
    if settings.completion_model:
        template = (detect_template(settings.completion_model) if settings.completion.fim_template == "auto"
                    else settings.completion.fim_template)
        print(f"• FIM template: {getattr(template, 'name', template)}", file=out)
    return ok
