"""The VS Code extension's manifest agrees with the server (runs without node).

- contributes.configuration is exactly what the generator makes from lsp_server.schema (drift check);
- every contributed command is an extension-local command the extension registers, never a server
  command id (the language client registers those itself and would clash);
- the protocol names mirrored in the TypeScript source match lsp_server/protocol.py;
- activation events are specific and cover the languages the client serves.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType

import pytest

from lsp_server import protocol
from lsp_server.schema import flat_properties

# Every command id the server defines (ALL_COMMANDS plus ones it attaches to items, if any).
SERVER_COMMANDS = {value for name, value in vars(protocol).items() if name.startswith("CMD_")} | set(
    protocol.ALL_COMMANDS
)

REPO = Path(__file__).resolve().parents[2]
EXTENSION = REPO / "editors" / "vscode"
PACKAGE_JSON = EXTENSION / "package.json"
SRC = EXTENSION / "src"


def _load_generator() -> ModuleType:
    path = EXTENSION / "scripts" / "generate_config.py"
    spec = importlib.util.spec_from_file_location("vscode_generate_config", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generator = _load_generator()


@pytest.fixture(scope="module")
def package() -> dict:
    return json.loads(PACKAGE_JSON.read_text(encoding="utf-8"))


def _ts_object(source: str, name: str) -> dict[str, str]:
    """Entries of `export const NAME = { key: 'value', ... }` in a TypeScript file."""
    match = re.search(rf"export const {name} = \{{(.*?)\}} as const;", source, re.S)
    assert match, f"{name} not found"
    return dict(re.findall(r"^\s*(\w+):\s*'([^']+)'", match.group(1), re.M))


def _ts_const(source: str, name: str) -> str:
    match = re.search(rf"export const {name} = '([^']+)';", source)
    assert match, f"{name} not found"
    return match.group(1)


@pytest.fixture(scope="module")
def protocol_ts() -> str:
    return (SRC / "protocol.ts").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def extension_ts() -> str:
    return (SRC / "extension.ts").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def all_sources() -> str:
    """Every TypeScript module of the extension (commands are registered in more than one)."""
    return "\n".join(path.read_text(encoding="utf-8") for path in sorted(SRC.glob("*.ts")))


# -- configuration -------------------------------------------------------------------------------


def test_configuration_matches_generator(package: dict) -> None:
    assert package["contributes"]["configuration"] == generator.contributed_configuration(), (
        "package.json is stale: run `python editors/vscode/scripts/generate_config.py`"
    )


def test_package_json_is_exactly_what_the_generator_writes(package: dict) -> None:
    text = PACKAGE_JSON.read_text(encoding="utf-8")
    assert generator.render_package_json(package, generator.contributed_configuration()) == text
    assert generator.main(["--check"]) == 0


def test_every_server_setting_is_contributed_with_its_schema(package: dict) -> None:
    server = package["contributes"]["configuration"][0]
    assert server["id"] == "ghostwriter"
    flat = flat_properties()
    assert list(server["properties"]) == list(flat)
    for key, leaf in flat.items():
        declared = {k: v for k, v in server["properties"][key].items() if k != "order"}
        assert declared == leaf, key
        assert "type" in declared, f"{key}: VS Code needs a type"


def test_generator_check_fails_on_drift(tmp_path: Path, package: dict) -> None:
    stale = json.loads(json.dumps(package))
    stale["contributes"]["configuration"][0]["properties"].pop("ghostwriter.hover.mode")
    target = tmp_path / "package.json"
    target.write_text(json.dumps(stale, indent=2) + "\n", encoding="utf-8")
    assert generator.main(["--check", "--package-json", str(target)]) == 1
    assert generator.main(["--package-json", str(target)]) == 0
    assert json.loads(target.read_text())["contributes"]["configuration"] == package["contributes"]["configuration"]


def test_client_settings_live_outside_the_server_section(package: dict, protocol_ts: str) -> None:
    client_section = _ts_const(protocol_ts, "CLIENT_SECTION")
    assert _ts_const(protocol_ts, "SERVER_SECTION") == "ghostwriter"
    client = package["contributes"]["configuration"][1]
    assert client["id"] == client_section != "ghostwriter"
    keys = list(client["properties"])
    assert keys and all(key.startswith(f"{client_section}.") for key in keys)
    assert f"{client_section}.server.command" in keys
    # vscode-languageclient reads `<client id>.trace.server`; the client id is the client section.
    assert f"{client_section}.trace.server" in keys
    default = client["properties"][f"{client_section}.server.command"]["default"]
    assert default == []  # empty: the extension finds `ghostwriter` where the install put it (src/launch.ts)


# -- commands --------------------------------------------------------------------------------------


def test_protocol_names_match_the_server(protocol_ts: str) -> None:
    mirrored = _ts_object(protocol_ts, "ServerCommands")
    assert set(mirrored.values()) <= SERVER_COMMANDS, "src/protocol.ts names a command the server does not have"
    # The commands the extension calls.
    assert mirrored["explain"] == protocol.CMD_EXPLAIN
    assert mirrored["showUsage"] == protocol.CMD_SHOW_USAGE
    assert mirrored["resetUsage"] == protocol.CMD_RESET_USAGE
    assert mirrored["showLastPrompt"] == protocol.CMD_SHOW_LAST_PROMPT
    assert _ts_const(protocol_ts, "USAGE_NOTIFICATION") == protocol.USAGE_NOTIFICATION
    assert _ts_const(protocol_ts, "DID_SHOW_COMPLETION") == protocol.DID_SHOW_COMPLETION
    assert _ts_const(protocol_ts, "DID_ACCEPT_COMPLETION") == protocol.DID_ACCEPT_COMPLETION
    assert _ts_const(protocol_ts, "NEXT_EDIT_REQUEST") == protocol.NEXT_EDIT
    assert _ts_const(protocol_ts, "NEXT_EDIT_OUTCOME") == protocol.NEXT_EDIT_OUTCOME


def test_contributed_commands_are_known(package: dict, protocol_ts: str, all_sources: str) -> None:
    client_commands = _ts_object(protocol_ts, "ClientCommands")
    registered = {client_commands[name] for name in re.findall(r"registerCommand\(ClientCommands\.(\w+)", all_sources)}
    contributed = [command["command"] for command in package["contributes"]["commands"]]
    assert len(contributed) == len(set(contributed)), "duplicate command ids"
    for command in contributed:
        assert command in registered or command in SERVER_COMMANDS, f"{command} is neither local nor served"
    # The UI commands the brief asks for, all local wrappers around the server's commands.
    for name in ("explain", "showUsage", "resetUsage", "showLastPrompt", "restartServer"):
        assert client_commands[name] in contributed
    for command in contributed:
        assert package["contributes"]["commands"][contributed.index(command)].get("title")


def test_local_commands_never_shadow_server_commands(protocol_ts: str) -> None:
    # The language client registers each command the server advertises under its own id.
    local = set(_ts_object(protocol_ts, "ClientCommands").values())
    assert not local & SERVER_COMMANDS
    assert all(command.startswith(f"{_ts_const(protocol_ts, 'CLIENT_SECTION')}.") for command in local)


def test_keybindings_reference_registered_commands(package: dict, protocol_ts: str, all_sources: str) -> None:
    client_commands = _ts_object(protocol_ts, "ClientCommands")
    registered = {client_commands[name] for name in re.findall(r"registerCommand\(ClientCommands\.(\w+)", all_sources)}
    bindings = package["contributes"].get("keybindings", [])
    for binding in bindings:
        assert binding["command"] in registered, binding
        assert binding.get("when"), f"{binding['command']}: a key without a when clause would always be taken"
    # Next edits: Tab and Esc only while one is shown, and Tab never while an inline completion is.
    by_key = {binding["key"]: binding for binding in bindings}
    assert by_key["tab"]["command"] == client_commands["nextEditTab"]
    assert by_key["escape"]["command"] == client_commands["nextEditDismiss"]
    for key in ("tab", "escape"):
        assert "ghostwriterClient.nextEditVisible" in by_key[key]["when"]
        assert "!inlineSuggestionVisible" in by_key[key]["when"]


def test_menus_reference_contributed_commands(package: dict) -> None:
    contributed = {command["command"] for command in package["contributes"]["commands"]}
    for menu, entries in package["contributes"].get("menus", {}).items():
        for entry in entries:
            assert entry["command"] in contributed, f"{menu}: {entry['command']}"


# -- activation and packaging ----------------------------------------------------------------------


def test_activation_events_are_sane(package: dict, extension_ts: str) -> None:
    events = package["activationEvents"]
    assert events, "no activation events"
    assert "*" not in events and "onStartupFinished" not in events, "activate on the languages served, not always"
    assert len(events) == len(set(events))
    block = re.search(r"export const LANGUAGES = \[(.*?)\] as const;", extension_ts, re.S)
    assert block
    languages = re.findall(r"'([^']+)'", block.group(1))
    assert "python" in languages
    assert sorted(events) == sorted(f"onLanguage:{language}" for language in languages)
    # Commands contributed in package.json activate the extension implicitly (VS Code >= 1.74).
    assert not [event for event in events if event.startswith("onCommand:")]


def test_manifest_basics(package: dict) -> None:
    assert package["main"] == "./dist/extension.js"
    assert package["publisher"] and package["name"] == "ghostwriter"
    assert re.fullmatch(r"\^1\.(\d+)\.\d+", package["engines"]["vscode"])
    assert int(package["engines"]["vscode"].split(".")[1]) >= 91  # vscode-languageclient 11
    assert package["dependencies"]["vscode-languageclient"].lstrip("^~").startswith("11.")
    assert "@types/vscode" in package["devDependencies"]
    for script in ("build", "package", "generate-config"):
        assert script in package["scripts"]
    assert "vsce package" in package["scripts"]["package"]


def test_lockfile_matches_manifest(package: dict) -> None:
    lock = json.loads((EXTENSION / "package-lock.json").read_text(encoding="utf-8"))
    root = lock["packages"][""]
    assert root["name"] == package["name"] and root["version"] == package["version"]
    assert root.get("dependencies", {}) == package["dependencies"]
    assert root.get("devDependencies", {}) == package["devDependencies"]


def test_vscodeignore_ships_only_the_bundle() -> None:
    lines = [line.strip() for line in (EXTENSION / ".vscodeignore").read_text().splitlines() if line.strip()]
    assert lines[0] == "**"
    assert "!dist/extension.js" in lines and "!package.json" in lines


def test_e2e_fixture_rules_parse() -> None:
    """The end-to-end run's fake-backend script is valid (the e2e itself runs outside CI)."""
    from tests.fakes.rules import Rule

    script = json.loads((EXTENSION / "test" / "fixtures" / "fake-backend.json").read_text(encoding="utf-8"))
    rules = [Rule.from_dict(rule) for rule in script["rules"]]
    assert any(rule.endpoint == "completions" and rule.reply for rule in rules)
    assert any(rule.endpoint == "chat" and "replacement" in rule.reply for rule in rules)
