"""Settings: camelCase JSON on the wire (section `ghostwriter`), resolved into frozen snake_case objects.

The wire model is what clients send: raw camelCase dicts from each source, lowest priority
first: built-in defaults, the user config file, environment variables, `initializationOptions`,
`workspace/configuration`; `GHOSTWRITER_CACHE_DIR` overrides `cache.dir` last. They are
deep-merged, then structured once, key by key (settings_codec.py maps `debounceMs` to
`debounce_ms`): a bad value produces one message naming the key as the client wrote it, and
that key alone keeps its default. The resolved `Settings` is immutable: code reads it, and a
change of settings is a new object.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

import attrs
import platformdirs

from lsp_server.settings_codec import merge_dicts, structure, unstructure, wire_to_attribute

BackendKind = Literal["auto", "openai", "vllm"]
FimTemplateName = Literal["auto", "qwen", "starcoder", "deepseek", "codellama", "codestral"]
HoverMode = Literal["off", "onDemand", "always"]
PreviewMode = Literal["auto", "changeAnnotation", "inlineDiff"]
BudgetUnit = Literal["money", "tokens"]
PathPolicyName = Literal["block", "localOnly", "allow"]
LogContent = Literal["full", "omit"]
NextEditFamily = Literal["auto", "qwen", "generic"]
OnPause = Literal["auto", "on", "off"]


@attrs.frozen
class VllmSettings:
    model: str = ""
    """Local model directory or model id served by the bundled engine (default Qwen/Qwen2.5-Coder-1.5B)."""
    args: tuple[str, ...] = ()
    """Extra engine arguments, e.g. ["--max-model-len", "8192"]."""
    python: str = ""
    """Interpreter that has vLLM installed; empty means the server's own."""
    tensor_parallel: int = 1
    data_parallel: int = 1
    expert_parallel: bool = False
    startup_timeout_s: int = 600
    fallback_to_remote: bool = True
    """While the engine starts (or after it failed), use backend.baseUrl if one is set."""
    ngram_speculative_tokens: int = 0
    """Prompt-lookup (n-gram) speculative decoding: tokens proposed per step from the prompt; 0 = off.
    Next-edit answers mostly copy their prompt, so they decode several tokens a step (see bench/RESULTS.md)."""


@attrs.frozen
class BackendSettings:
    kind: BackendKind = "auto"
    """"openai": the endpoint at baseUrl; "vllm": the bundled engine; "auto": baseUrl if set, else the
    bundled engine where a CUDA GPU and vLLM exist."""
    base_url: str = ""
    """OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1."""
    model: str = ""
    """Chat model (hovers, code actions)."""
    completion_model: str = ""
    """FIM model for inline completion; defaults to backend.model."""
    api_key_env: str = ""
    """Name of the environment variable that holds the API key (never the key itself)."""
    timeout_ms: int = 30000
    """Per-request timeout, in milliseconds."""
    vllm: VllmSettings = attrs.field(factory=VllmSettings)


@attrs.frozen
class CacheSettings:
    enabled: bool = True
    dir: str = ""
    """Default: the user cache dir; GHOSTWRITER_CACHE_DIR overrides."""
    ttl_hours: float = 24.0
    size_mb: int = 512


@attrs.frozen
class CompletionSettings:
    enabled: bool = True
    fim_template: FimTemplateName = "auto"
    debounce_ms: int = 40
    """Server-side debounce; 0 turns it off."""
    max_tokens: int = 64
    multiline_max_tokens: int = 256
    """Cap for a whole block or docstring; the answer itself ends where the block or the text does."""
    context_tokens: int = 2048
    """Prompt budget in tokens."""
    context_time_ms: int = 15
    """Time box for cross-file context per request."""
    temperature: float = 0.0
    tokenizer: str = ""
    """Path to a tokenizer.json for exact budgets; empty = auto."""
    kv_warmup: bool = True
    """Send a 1-token request when the stable context changes (bundled engine)."""
    cross_file_context: bool = True
    """Put definitions and similar snippets from other files into the prompt."""
    post_process: bool = True
    """Clean up the model's answer (indentation, block end, suffix overlap, syntax check); off shows it raw."""
    gating: bool = True
    """Skip requests where a suggestion cannot fit (mid-identifier, text right of the cursor)."""


@attrs.frozen
class HoverSettings:
    mode: HoverMode = "onDemand"
    max_tokens: int = 300


@attrs.frozen
class ThinkingSettings:
    budget: int = 0
    """Thinking tokens for chat models that think (Qwen3); 0 = no thinking."""


@attrs.frozen
class CodeActionSettings:
    enabled: bool = True
    preview: PreviewMode = "auto"
    max_tokens: int = 1024


@attrs.frozen
class NextEditSettings:
    enabled: bool = True
    region_lines: int = 30
    """Lines of the editable region the model rewrites (its start moves in steps of a third of it)."""
    context_lines: int = 20
    """Lines shown above and below the region."""
    history_hunks: int = 16
    """Recent edit hunks kept per workspace (and sent)."""
    max_tokens: int = 768
    """Cap for the rewritten region; an answer cut off by it is dropped."""
    prompt_family: NextEditFamily = "auto"
    """Prompt format (context/next_edit_prompts.py); "auto" chooses by model name."""
    compute_on_pause: OnPause = "auto"
    """Compute a suggestion on the pause after an edit, for the "Apply next edit" code action (clients
    that cannot send ghostwriter/nextEdit, like JetBrains through LSP4IJ). "auto": until the client
    sends its own next-edit request."""
    pause_ms: int = 800
    """The pause after the last change before computing on pause."""


@attrs.frozen
class Price:
    input_per_1m: float = 0.0
    cached_input_per_1m: float = 0.0
    output_per_1m: float = 0.0
    currency: str = "USD"


@attrs.frozen
class BudgetSettings:
    unit: BudgetUnit = "money"
    daily_limit: float = 0.0
    """0 = no limit."""
    session_limit: float = 0.0


@attrs.frozen
class PrivacySettings:
    redact_secrets: bool = True
    """Replace secrets, e-mail addresses and private IP addresses with placeholders (<SECRET_1>) before any
    remote call; answers using a placeholder are restored locally."""
    rules: dict[str, PathPolicyName] = attrs.field(factory=dict)
    """Per-path policy, glob → "block" (nothing from the file is sent anywhere, not even as context),
    "localOnly" (bundled engine only) or "allow". Checked before the built-in rules, which block .env*,
    *.pem, *.key, ssh keys and credential files; a later rule overrides an earlier one."""


@attrs.frozen
class StatusSettings:
    progress: bool = False
    """Also show usage as work-done progress ($/progress), for clients that show no Ghostwriter status item
    (JetBrains through LSP4IJ): tokens, cache hits and money while model calls run."""


@attrs.frozen
class LogSettings:
    level: Literal["debug", "info", "warning", "error"] = "info"
    file: str = ""
    content: LogContent = "full"
    """"omit": log lines carry no code, prompts or completions at all (only sizes, timings and counts)."""


@attrs.frozen
class Settings:
    backend: BackendSettings = attrs.field(factory=BackendSettings)
    cache: CacheSettings = attrs.field(factory=CacheSettings)
    completion: CompletionSettings = attrs.field(factory=CompletionSettings)
    hover: HoverSettings = attrs.field(factory=HoverSettings)
    thinking: ThinkingSettings = attrs.field(factory=ThinkingSettings)
    code_actions: CodeActionSettings = attrs.field(factory=CodeActionSettings)
    next_edit: NextEditSettings = attrs.field(factory=NextEditSettings)
    pricing: dict[str, Price] = attrs.field(factory=dict)
    budget: BudgetSettings = attrs.field(factory=BudgetSettings)
    privacy: PrivacySettings = attrs.field(factory=PrivacySettings)
    status: StatusSettings = attrs.field(factory=StatusSettings)
    log: LogSettings = attrs.field(factory=LogSettings)

    @property
    def completion_model(self) -> str:
        return self.backend.completion_model or self.backend.model

    @property
    def cache_dir(self) -> Path:
        override = os.environ.get("GHOSTWRITER_CACHE_DIR")
        chosen = override or self.cache.dir
        return Path(chosen).expanduser() if chosen else Path(platformdirs.user_cache_dir("ghostwriter"))

    def api_key(self) -> str | None:
        """Read the key from the named environment variable, at the moment it is needed."""
        return os.environ.get(self.backend.api_key_env) if self.backend.api_key_env else None


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
    settings, problems = validate(settings)
    return settings, errors + structure_errors + problems


def validate(settings: Settings) -> tuple[Settings, list[str]]:
    """Checks that need more than a type: ranges and combinations."""
    problems: list[str] = []
    checks = [
        (settings.backend.timeout_ms > 0, "backend.timeoutMs", "must be > 0"),
        (settings.completion.debounce_ms >= 0, "completion.debounceMs", "must be >= 0"),
        (settings.completion.max_tokens > 0, "completion.maxTokens", "must be > 0"),
        (settings.completion.context_tokens >= 64, "completion.contextTokens", "must be >= 64"),
        (settings.cache.ttl_hours > 0, "cache.ttlHours", "must be > 0"),
        (settings.cache.size_mb > 0, "cache.sizeMb", "must be > 0"),
        (settings.backend.vllm.tensor_parallel >= 1, "backend.vllm.tensorParallel", "must be >= 1"),
        (settings.backend.vllm.data_parallel >= 1, "backend.vllm.dataParallel", "must be >= 1"),
        (0 <= settings.backend.vllm.ngram_speculative_tokens <= 32, "backend.vllm.ngramSpeculativeTokens",
         "must be between 0 and 32"),
        (6 <= settings.next_edit.region_lines <= 200, "nextEdit.regionLines", "must be between 6 and 200"),
        (settings.next_edit.context_lines >= 0, "nextEdit.contextLines", "must be >= 0"),
        (settings.next_edit.history_hunks >= 0, "nextEdit.historyHunks", "must be >= 0"),
        (settings.next_edit.max_tokens > 0, "nextEdit.maxTokens", "must be > 0"),
        (settings.next_edit.pause_ms >= 0, "nextEdit.pauseMs", "must be >= 0"),
    ]
    defaults = Settings()
    for ok, key, rule in checks:
        if not ok:
            problems.append(f"{SECTION}.{key} {rule}; using the default")
            settings = _with_default(settings, defaults, key)
    url = settings.backend.base_url
    if url and not url.startswith(("http://", "https://")):
        problems.append(f"{SECTION}.backend.baseUrl must start with http:// or https://, got {url!r}")
        settings = attrs.evolve(settings, backend=attrs.evolve(settings.backend, base_url=""))
    return settings, problems


def _with_default(settings: Any, defaults: Any, dotted: str) -> Any:
    """A copy of `settings` with the (wire-named) key at `dotted` set back to its default."""
    name, _, rest = dotted.partition(".")
    attribute = wire_to_attribute(name)
    if not rest:
        return attrs.evolve(settings, **{attribute: getattr(defaults, attribute)})
    inner = _with_default(getattr(settings, attribute), getattr(defaults, attribute), rest)
    return attrs.evolve(settings, **{attribute: inner})


def to_wire(settings: Settings) -> dict[str, Any]:
    return unstructure(settings)
