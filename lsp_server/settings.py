"""The one typed settings model, section `ghostwriter`, camelCase on the wire.

Sources, lowest priority first: built-in defaults, the user config file, environment variables,
`initializationOptions`, `workspace/configuration`; `GHOSTWRITER_CACHE_DIR` overrides `cache.dir`
last. Raw camelCase dicts are deep-merged first and structured once, key by key: a bad value
produces one message naming the key, and that key alone keeps its default.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

import attrs
import platformdirs

from lsp_server.settings_codec import merge_dicts, structure, unstructure

BackendKind = Literal["auto", "openai", "vllm"]
FimTemplateName = Literal["auto", "qwen", "starcoder", "deepseek", "codellama", "codestral"]
HoverMode = Literal["off", "onDemand", "always"]
PreviewMode = Literal["auto", "changeAnnotation", "inlineDiff"]
BudgetUnit = Literal["money", "tokens"]


@attrs.define
class VllmSettings:
    model: str = ""
    """Local model directory or model id served by the bundled engine (default Qwen/Qwen2.5-Coder-1.5B)."""
    args: list[str] = attrs.field(factory=list)
    """Extra engine arguments, e.g. ["--max-model-len", "8192"]."""
    python: str = ""
    """Interpreter that has vLLM installed; empty means the server's own."""
    tensorParallel: int = 1
    dataParallel: int = 1
    expertParallel: bool = False
    startupTimeoutS: int = 600
    fallbackToRemote: bool = True
    """While the engine starts (or after it failed), use backend.baseUrl if one is set."""


@attrs.define
class BackendSettings:
    kind: BackendKind = "auto"
    """"openai": the endpoint at baseUrl; "vllm": the bundled engine; "auto": baseUrl if set, else the
    bundled engine where a CUDA GPU and vLLM exist."""
    baseUrl: str = ""
    """OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1."""
    model: str = ""
    """Chat model (hovers, code actions)."""
    completionModel: str = ""
    """FIM model for inline completion; defaults to backend.model."""
    apiKeyEnv: str = ""
    """Name of the environment variable that holds the API key (never the key itself)."""
    timeoutMs: int = 30000
    """Per-request timeout, in milliseconds."""
    vllm: VllmSettings = attrs.field(factory=VllmSettings)


@attrs.define
class CacheSettings:
    enabled: bool = True
    dir: str = ""
    """Default: the user cache dir; GHOSTWRITER_CACHE_DIR overrides."""
    ttlHours: float = 24.0
    sizeMb: int = 512


@attrs.define
class CompletionSettings:
    enabled: bool = True
    fimTemplate: FimTemplateName = "auto"
    debounceMs: int = 40
    """Server-side debounce; 0 turns it off."""
    maxTokens: int = 64
    multilineMaxTokens: int = 256
    """Cap for a whole block or docstring; the answer itself ends where the block or the text does."""
    contextTokens: int = 2048
    """Prompt budget in tokens."""
    contextTimeMs: int = 15
    """Time box for cross-file context per request."""
    temperature: float = 0.0
    tokenizer: str = ""
    """Path to a tokenizer.json for exact budgets; empty = auto."""
    kvWarmup: bool = True
    """Send a 1-token request when the stable context changes (bundled engine)."""
    crossFileContext: bool = True
    """Put definitions and similar snippets from other files into the prompt."""
    postProcess: bool = True
    """Clean up the model's answer (indentation, block end, suffix overlap, syntax check); off shows it raw."""
    gating: bool = True
    """Skip requests where a suggestion cannot fit (mid-identifier, text right of the cursor)."""


@attrs.define
class HoverSettings:
    mode: HoverMode = "onDemand"
    maxTokens: int = 300


@attrs.define
class ThinkingSettings:
    budget: int = 0
    """Thinking tokens for chat models that think (Qwen3); 0 = no thinking."""


@attrs.define
class CodeActionSettings:
    enabled: bool = True
    preview: PreviewMode = "auto"
    maxTokens: int = 1024


@attrs.define
class Price:
    inputPer1M: float = 0.0
    cachedInputPer1M: float = 0.0
    outputPer1M: float = 0.0
    currency: str = "USD"


@attrs.define
class BudgetSettings:
    unit: BudgetUnit = "money"
    dailyLimit: float = 0.0
    """0 = no limit."""
    sessionLimit: float = 0.0


@attrs.define
class PrivacySettings:
    redactSecrets: bool = True
    """Replace secrets in code with placeholders before any remote call."""


@attrs.define
class LogSettings:
    level: Literal["debug", "info", "warning", "error"] = "info"
    file: str = ""


@attrs.define
class Settings:
    backend: BackendSettings = attrs.field(factory=BackendSettings)
    cache: CacheSettings = attrs.field(factory=CacheSettings)
    completion: CompletionSettings = attrs.field(factory=CompletionSettings)
    hover: HoverSettings = attrs.field(factory=HoverSettings)
    thinking: ThinkingSettings = attrs.field(factory=ThinkingSettings)
    codeActions: CodeActionSettings = attrs.field(factory=CodeActionSettings)
    pricing: dict[str, Price] = attrs.field(factory=dict)
    budget: BudgetSettings = attrs.field(factory=BudgetSettings)
    privacy: PrivacySettings = attrs.field(factory=PrivacySettings)
    log: LogSettings = attrs.field(factory=LogSettings)

    @property
    def completion_model(self) -> str:
        return self.backend.completionModel or self.backend.model

    @property
    def cache_dir(self) -> Path:
        override = os.environ.get("GHOSTWRITER_CACHE_DIR")
        chosen = override or self.cache.dir
        return Path(chosen).expanduser() if chosen else Path(platformdirs.user_cache_dir("ghostwriter"))

    def api_key(self) -> str | None:
        """Read the key from the named environment variable, at the moment it is needed."""
        return os.environ.get(self.backend.apiKeyEnv) if self.backend.apiKeyEnv else None


SECTION = "ghostwriter"

# Environment variables read as low-priority settings (below anything the editor sends).
ENV_SETTINGS: dict[str, tuple[str, ...]] = {
    "GHOSTWRITER_BACKEND": ("backend", "kind"),
    "GHOSTWRITER_BASE_URL": ("backend", "baseUrl"),
    "GHOSTWRITER_MODEL": ("backend", "model"),
    "GHOSTWRITER_COMPLETION_MODEL": ("backend", "completionModel"),
    "GHOSTWRITER_API_KEY_ENV": ("backend", "apiKeyEnv"),
    "GHOSTWRITER_VLLM_MODEL": ("backend", "vllm", "model"),
}


def config_file_path() -> Path:
    explicit = os.environ.get("GHOSTWRITER_CONFIG")
    return Path(explicit) if explicit else Path(platformdirs.user_config_dir("ghostwriter")) / "settings.json"


def read_config_file(path: Path | None = None) -> tuple[dict[str, Any], list[str]]:
    """The user config file's `ghostwriter` content (or whole object); a broken file is an error, not a crash."""
    path = path or config_file_path()
    if not path.is_file():
        return {}, []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {}, [f"{path}: cannot read settings file ({exc}); using defaults"]
    if not isinstance(data, dict):
        return {}, [f"{path}: expected a JSON object; using defaults"]
    inner = data.get(SECTION, data)
    return (inner if isinstance(inner, dict) else {}), []


def env_settings(environ: dict[str, str] | None = None) -> dict[str, Any]:
    environ = dict(os.environ) if environ is None else environ
    result: dict[str, Any] = {}
    for var, path in ENV_SETTINGS.items():
        if environ.get(var):
            node = result
            for key in path[:-1]:
                node = node.setdefault(key, {})
            node[path[-1]] = environ[var]
    return result


def unwrap_section(raw: Any) -> Any:
    """Clients send either the section's content or an object holding it under `ghostwriter`."""
    if isinstance(raw, dict) and isinstance(raw.get(SECTION), dict):
        return raw[SECTION]
    return raw


def resolve(*layers: Any) -> tuple[Settings, list[str]]:
    """Merge raw layers (lowest priority first) and structure them; returns settings and errors."""
    merged: dict[str, Any] = {}
    errors: list[str] = []
    for layer in layers:
        layer = unwrap_section(layer)
        if layer is None:
            continue
        if not isinstance(layer, dict):
            errors.append(f"{SECTION}: expected an object, got {type(layer).__name__}; ignored")
            continue
        merged = merge_dicts(merged, layer)
    settings, structure_errors = structure(Settings, merged, SECTION)
    return settings, errors + structure_errors + validate(settings)


def validate(settings: Settings) -> list[str]:
    """Checks that need more than a type: ranges and combinations."""
    problems: list[str] = []
    checks = [
        (settings.backend.timeoutMs > 0, "backend.timeoutMs", "must be > 0"),
        (settings.completion.debounceMs >= 0, "completion.debounceMs", "must be >= 0"),
        (settings.completion.maxTokens > 0, "completion.maxTokens", "must be > 0"),
        (settings.completion.contextTokens >= 64, "completion.contextTokens", "must be >= 64"),
        (settings.cache.ttlHours > 0, "cache.ttlHours", "must be > 0"),
        (settings.cache.sizeMb > 0, "cache.sizeMb", "must be > 0"),
        (settings.backend.vllm.tensorParallel >= 1, "backend.vllm.tensorParallel", "must be >= 1"),
        (settings.backend.vllm.dataParallel >= 1, "backend.vllm.dataParallel", "must be >= 1"),
    ]
    defaults = Settings()
    for ok, key, rule in checks:
        if not ok:
            problems.append(f"{SECTION}.{key} {rule}; using the default")
            _reset_key(settings, defaults, key)
    url = settings.backend.baseUrl
    if url and not url.startswith(("http://", "https://")):
        problems.append(f"{SECTION}.backend.baseUrl must start with http:// or https://, got {url!r}")
        settings.backend.baseUrl = ""
    return problems


def _reset_key(settings: Settings, defaults: Settings, dotted: str) -> None:
    *parents, leaf = dotted.split(".")
    target: Any = settings
    source: Any = defaults
    for name in parents:
        target, source = getattr(target, name), getattr(source, name)
    setattr(target, leaf, getattr(source, leaf))


def to_wire(settings: Settings) -> dict[str, Any]:
    return unstructure(settings)
