// Unit tests of src/launch.ts (bundled to out/launch.cjs by `npm run test:unit`), table-driven.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';

const require = createRequire(import.meta.url);
const launch = require('../../out/launch.cjs');

const exists = (files) => (file) => files.includes(file);

test('findServer: PATH first, then each folder venv, then ~/.local/bin', () => {
  const env = { PATH: '/usr/bin:/opt/tools/bin', HOME: '/home/me' };
  const cases = [
    [['/opt/tools/bin/ghostwriter', '/ws/.venv/bin/ghostwriter'], ['/opt/tools/bin/ghostwriter', 'serve']],
    [['/ws/.venv/bin/ghostwriter', '/home/me/.local/bin/ghostwriter'], ['/ws/.venv/bin/ghostwriter', 'serve']],
    [['/ws/venv/bin/ghostwriter'], ['/ws/venv/bin/ghostwriter', 'serve']],
    [['/other/.venv/bin/ghostwriter'], ['/other/.venv/bin/ghostwriter', 'serve']],
    [['/home/me/.local/bin/ghostwriter'], ['/home/me/.local/bin/ghostwriter', 'serve']],
    [[], undefined],
  ];
  for (const [files, argv] of cases) {
    const found = launch.findServer(['/ws', '/other'], env, 'linux', exists(files));
    assert.deepEqual(found.argv, argv, JSON.stringify(files));
    assert.deepEqual(found.tried, [
      'ghostwriter on PATH',
      '/ws/.venv/bin/ghostwriter',
      '/ws/venv/bin/ghostwriter',
      '/other/.venv/bin/ghostwriter',
      '/other/venv/bin/ghostwriter',
      '/home/me/.local/bin/ghostwriter',
    ]);
  }
});

test('onPath resolves bare names on PATH and checks paths as they are', () => {
  const env = { PATH: '/a:/b' };
  assert.equal(launch.onPath('python3', env, 'linux', exists(['/b/python3'])), '/b/python3');
  assert.equal(launch.onPath('python3', env, 'linux', exists([])), undefined);
  assert.equal(launch.onPath('/x/gw', env, 'linux', exists(['/x/gw'])), '/x/gw');
  assert.equal(launch.onPath('/x/gw', env, 'linux', exists(['/a/gw'])), undefined);
  assert.equal(launch.onPath('gw', { PATH: 'C:\\t' }, 'win32', exists(['C:\\t/gw.exe', 'C:\\t\\gw.exe'])) !== undefined, true);
});

test('messages name what was tried and the setting that fixes it', () => {
  const notFound = launch.notFoundMessage(['ghostwriter on PATH', '/ws/.venv/bin/ghostwriter']);
  for (const part of ['no ghostwriter command found', 'ghostwriter on PATH, /ws/.venv/bin/ghostwriter',
    'ghostwriterClient.server.command', 'pipx install']) {
    assert.ok(notFound.includes(part), part);
  }
  const notExecutable = launch.notExecutableMessage(['python3', '-m', 'lsp_server']);
  assert.ok(notExecutable.startsWith('cannot start the language server: `python3` (from `ghostwriterClient.server.command`)'));
  const exited = launch.exitedMessage(['python3', '-m', 'lsp_server'], ['/usr/bin/python3: No module named lsp_server']);
  assert.ok(exited.includes('`python3 -m lsp_server` exited before it started. It said: /usr/bin/python3: No module named lsp_server'));
  assert.ok(exited.includes('ghostwriter doctor') && exited.includes('ghostwriterClient.server.command'));
});

test('serverLogLine keeps the level the server gave', () => {
  const cases = [
    ['{"ts": 1, "level": "info", "logger": "ghostwriter.cli", "msg": "backend: x"}', 'info', '[cli] backend: x'],
    ['{"ts": 1, "level": "warning", "logger": "ghostwriter.server", "msg": "settings: bad", "kind": "k"}', 'warn',
      '[server] settings: bad {"kind":"k"}'],
    ['{"level": "debug", "msg": "d"}', 'debug', 'd'],
    ['{"level": "error", "logger": "asyncio", "msg": "boom", "error": "Traceback"}', 'error', '[asyncio] boom\nTraceback'],
    ['Traceback (most recent call last):', 'error', 'Traceback (most recent call last):'],
    ['[1, 2]', 'error', '[1, 2]'],
  ];
  for (const [line, level, text] of cases) {
    assert.deepEqual(launch.serverLogLine(line), { level, text }, line);
  }
});
