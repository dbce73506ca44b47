"""Settings: layering, camelCase, and bad values that name their key and keep the default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lsp_server.schema import flat_properties, settings_schema
from lsp_server.settings import Settings, env_settings, read_config_file, resolve


def test_defaults() -> None:
    settings, errors = resolve()
    assert errors == []
    assert settings.backend.kind == "auto"
    assert settings.cache.ttl_hours == 24
    assert settings.completion.fim_template == "auto"
    assert settings.hover.mode == "onDemand"


def test_layers_merge_deeply_with_later_winning() -> None:
    settings, errors = resolve(
        {"backend": {"baseUrl": "http://a/v1", "model": "m1"}},
        {"ghostwriter": {"backend": {"model": "m2"}}},  # clients may wrap the section
        {"completion": {"debounceMs": 0}},
    )
    assert errors == []
    assert settings.backend.base_url == "http://a/v1"
    assert settings.backend.model == "m2"
    assert settings.completion_model == "m2"  # completionModel defaults to model
    assert settings.completion.debounce_ms == 0


@pytest.mark.parametrize(
    ("raw", "key", "attribute", "default"),
    [
        ({"backend": {"timeoutMs": "fast"}}, "ghostwriter.backend.timeoutMs", ("backend", "timeout_ms"), 30000),
        ({"backend": {"kind": "llama"}}, "ghostwriter.backend.kind", ("backend", "kind"), "auto"),
        ({"completion": {"debounceMs": -5}}, "ghostwriter.completion.debounceMs", ("completion", "debounce_ms"), 40),
        ({"completion": {"fimTemplate": "gpt"}}, "ghostwriter.completion.fimTemplate",
         ("completion", "fim_template"), "auto"),
        ({"cache": {"ttlHours": True}}, "ghostwriter.cache.ttlHours", ("cache", "ttl_hours"), 24.0),
        ({"backend": {"vllm": {"args": "--x"}}}, "ghostwriter.backend.vllm.args", ("backend", "vllm"), None),
        ({"backend": {"baseUrl": "localhost:8000"}}, "ghostwriter.backend.baseUrl", ("backend", "base_url"), ""),
    ],
)
def test_bad_value_names_the_key_and_keeps_the_default(raw, key, attribute, default) -> None:
    settings, errors = resolve({"completion": {"maxTokens": 50}}, raw)
    assert len(errors) == 1 and key in errors[0]
    assert settings.completion.max_tokens == 50  # the good keys survive
    if default is not None:
        section, name = attribute
        assert getattr(getattr(settings, section), name) == default


def test_unknown_key_is_reported_and_ignored() -> None:
    settings, errors = resolve({"completion": {"debounce": 10}})
    assert errors == ["ghostwriter.completion.debounce: unknown setting; ignored"]
    assert settings.completion.debounce_ms == 40


def test_non_object_section_is_an_error_not_a_crash() -> None:
    settings, errors = resolve("nonsense")
    assert errors and "expected an object" in errors[0]
    assert settings == Settings()


def test_pricing_table_and_bad_entry() -> None:
    settings, errors = resolve({"pricing": {"my-model": {"inputPer1M": 2, "outputPer1M": 6, "currency": "EUR"},
                                            "broken": 5}})
    assert settings.pricing["my-model"].input_per_1m == 2.0
    assert settings.pricing["my-model"].currency == "EUR"
    assert "broken" not in settings.pricing  # never a made-up zero price
    assert any("ghostwriter.pricing.broken" in e for e in errors)


def test_env_and_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "settings.json"
    config.write_text(json.dumps({"ghostwriter": {"backend": {"model": "from-file"}}}))
    monkeypatch.setenv("GHOSTWRITER_CONFIG", str(config))
    file_layer, file_errors = read_config_file()
    env_layer = env_settings({"GHOSTWRITER_BASE_URL": "http://127.0.0.1:1/v1", "GHOSTWRITER_MODEL": "from-env"})
    settings, errors = resolve(file_layer, env_layer, {"backend": {"completionModel": "fim"}})
    assert (file_errors, errors) == ([], [])
    assert settings.backend.model == "from-env"
    assert settings.backend.base_url == "http://127.0.0.1:1/v1"
    assert settings.completion_model == "fim"


def test_broken_config_file_is_reported(tmp_path: Path) -> None:
    config = tmp_path / "settings.json"
    config.write_text("{not json")
    layer, errors = read_config_file(config)
    assert layer == {} and "cannot read settings file" in errors[0]


def test_cache_dir_env_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings, _ = resolve({"cache": {"dir": "/somewhere/else"}})
    monkeypatch.setenv("GHOSTWRITER_CACHE_DIR", str(tmp_path))
    assert settings.cache_dir == tmp_path


def test_api_key_is_read_from_named_env_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_KEY", "sk-secret-value")
    settings, _ = resolve({"backend": {"apiKeyEnv": "MY_KEY"}})
    assert settings.api_key() == "sk-secret-value"
    assert "sk-secret-value" not in json.dumps(settings_schema())


def test_schema_covers_every_setting_and_checked_in_copy_matches() -> None:
    flat = flat_properties()
    for key in ("ghostwriter.backend.kind", "ghostwriter.backend.vllm.args", "ghostwriter.cache.sizeMb",
                "ghostwriter.completion.debounceMs", "ghostwriter.budget.dailyLimit", "ghostwriter.pricing"):
        assert key in flat
    assert flat["ghostwriter.backend.kind"]["enum"] == ["auto", "openai", "vllm"]
    checked_in = Path(__file__).parents[2] / "editors" / "schema" / "ghostwriter.schema.json"
    assert json.loads(checked_in.read_text()) == settings_schema(), "run: python -m lsp_server.schema > " + str(
        checked_in.relative_to(Path(__file__).parents[2]))


@pytest.mark.parametrize(("attribute", "wire"), [
    ("base_url", "baseUrl"), ("startup_timeout_s", "startupTimeoutS"), ("input_per_1m", "inputPer1M"),
    ("cached_input_per_1m", "cachedInputPer1M"), ("code_actions", "codeActions"), ("mode", "mode"),
])
def test_wire_names_are_the_attributes_in_camel_case(attribute: str, wire: str) -> None:
    from lsp_server.settings_codec import attribute_to_wire, wire_to_attribute

    assert attribute_to_wire(attribute) == wire
    assert wire_to_attribute(wire) == attribute


def test_resolved_settings_are_immutable_and_round_trip_to_the_wire() -> None:
    import attrs

    from lsp_server.settings import to_wire

    settings, errors = resolve({"completion": {"debounceMs": 5}, "backend": {"vllm": {"args": ["--a"]}}})
    assert errors == [] and settings.completion.debounce_ms == 5 and settings.backend.vllm.args == ("--a",)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        settings.completion.debounce_ms = 0  # type: ignore[misc]
    again, errors = resolve(to_wire(settings))
    assert errors == [] and again == settings
