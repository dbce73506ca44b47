"""`ghostwriter doctor`: print the resolved settings (secrets masked) and check the backend.

Exit status 0 when a completion could be served right now, 1 when any line is marked ✗ (each says
what to fix in plain words), 2 when --settings cannot be read.
"""

from __future__ import annotations

import asyncio
import difflib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsp_server.backends.router import NO_BACKEND_MESSAGE, cuda_gpu_present, effective_kind
from lsp_server.errors import BackendError
from lsp_server.first_run import ConfigFile, config_file, missing_config_text
from lsp_server.settings import Settings, env_settings, read_config_file, resolve, to_wire

MODELS_SHOWN = 12


@dataclass
class Report:
    """Lines for the user; any ✗ line makes the verdict "not ready"."""

    out: Any
    problems: int = 0

    def ok(self, text: str) -> None:
        print(f"✓ {text}", file=self.out)

    def info(self, text: str) -> None:
        print(f"• {text}", file=self.out)

    def bad(self, text: str) -> None:
        self.problems += 1
        print(f"✗ {text}", file=self.out)


def load_settings(arg: str | None, config: ConfigFile | None = None) -> tuple[Settings, list[str]]:
    file_layer, file_errors = read_config_file(config.path if config else None)
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
    report = Report(out or sys.stdout)
    config = config_file()
    try:
        settings, errors = load_settings(arg, config)
    except (OSError, ValueError) as exc:
        print(f"✗ cannot read --settings: {exc}", file=report.out)
        return 2
    print("Resolved settings (section 'ghostwriter'):", file=report.out)
    print(json.dumps(masked(settings), indent=2), file=report.out)
    if config.missing_but_named:
        report.bad(missing_config_text(config))
    else:
        report.info(f"settings file: {config.describe()}")
    for error in errors:
        report.bad(f"setting: {error}")
    report.info(f"cache dir: {settings.cache_dir}")
    asyncio.run(check_backend(settings, report))
    if report.problems:
        print(f"✗ not ready: fix the {report.problems} line(s) marked ✗ above", file=report.out)
        return 1
    print("✓ ready to serve", file=report.out)
    return 0


async def check_backend(settings: Settings, report: Report) -> None:
    kind = effective_kind(settings)
    if kind == "none" or (kind == "openai" and not settings.backend.base_url):
        report.bad(f"backend: {NO_BACKEND_MESSAGE}")
    elif kind == "vllm":
        check_bundled(settings, report)
    else:
        await check_remote(settings, report)


def check_bundled(settings: Settings, report: Report) -> None:
    from lsp_server.backends.vllm_supervisor import check_environment

    problem = check_environment(settings.backend.vllm.python or sys.executable)
    gpu = cuda_gpu_present()
    model = settings.backend.vllm.model or "(default)"
    report.info(f"bundled vLLM: model {model}; CUDA GPU {'found' if gpu else 'not found'}")
    if problem:
        report.bad(f"bundled vLLM: {problem}")
    else:
        report.ok("bundled vLLM can start (startup takes 1.5–4 minutes on first use)")


async def check_remote(settings: Settings, report: Report) -> None:
    from context.fim import detect_template
    from lsp_server.backends.openai_compat import OpenAICompatBackend

    url = settings.backend.base_url
    if settings.backend.api_key_env and not settings.api_key():
        report.bad(f"API key: environment variable {settings.backend.api_key_env} is not set "
                   f"(ghostwriter.backend.apiKeyEnv names it; export it where the editor starts the server)")
    backend = OpenAICompatBackend("openai", url, settings.api_key(), min(settings.backend.timeout_ms / 1000, 10.0),
                                  api_key_source=f"${settings.backend.api_key_env}")
    try:
        models = await backend.list_models()
    except BackendError as error:
        report.bad(f"backend {url}: {error.user_message}")
        return
    finally:
        await backend.aclose()
    report.ok(f"backend {url} is reachable; it lists {len(models)} model(s)")
    report_models(settings, models, report)
    if settings.completion_model:
        template = (detect_template(settings.completion_model) if settings.completion.fim_template == "auto"
                    else settings.completion.fim_template)
        report.info(f"FIM template: {getattr(template, 'name', template)}")


def report_models(settings: Settings, models: list[str], report: Report) -> None:
    for role, key, name in (("completion", "completionModel", settings.completion_model),
                            ("chat", "model", settings.backend.model or settings.completion_model)):
        if not name:
            report.bad(f"{role} model: not set (ghostwriter.backend.{key}){offer(models)}")
        elif models and name not in models:
            report.bad(f"{role} model '{name}' is not listed by the backend{suggest(name, models)}{offer(models)}")
        else:
            report.ok(f"{role} model: {name}")


def suggest(name: str, models: list[str]) -> str:
    """'; did you mean X?' for a near miss such as a missing tag or a different case."""
    lowered = {model.lower(): model for model in models}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.6)
    contains = [m for m in models if name.lower() in m.lower() or m.lower() in name.lower()]
    picks = list(dict.fromkeys([*contains, *(lowered[c] for c in close)]))[:3]
    return f"; did you mean {' or '.join(repr(p) for p in picks)}?" if picks else ""


def offer(models: list[str]) -> str:
    if not models:
        return ""
    shown = ", ".join(models[:MODELS_SHOWN])
    more = f" and {len(models) - MODELS_SHOWN} more" if len(models) > MODELS_SHOWN else ""
    return f"; the backend lists: {shown}{more}"
