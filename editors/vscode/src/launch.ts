/**
 * Finding the server and reading its log (no vscode import: unit-tested with node's test runner).
 *
 * README installs `ghostwriter` into a virtualenv; a GUI-started VS Code often has neither that venv
 * nor ~/.local/bin on PATH. So an empty `ghostwriterClient.server.command` means: try the places the
 * install steps put the console script, and when none has it, say which were tried and what to set.
 */

import * as fs from 'fs';
import * as path from 'path';

export const COMMAND_SETTING = 'ghostwriterClient.server.command';

export interface Found {
  argv: string[] | undefined;
  tried: string[];
}

export interface Environment {
  PATH?: string;
  HOME?: string;
  USERPROFILE?: string;
}

export function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** `name` resolved on PATH, or undefined; a name holding a separator is checked as it is. */
export function onPath(
  name: string,
  env: Environment,
  platform: string = process.platform,
  executable: (file: string) => boolean = isExecutable,
): string | undefined {
  if (name.includes('/') || name.includes('\\')) {
    return executable(name) ? name : undefined;
  }
  const suffixes = platform === 'win32' ? ['.exe', '.cmd', ''] : [''];
  for (const dir of (env.PATH ?? '').split(platform === 'win32' ? ';' : ':')) {
    for (const suffix of suffixes) {
      const candidate = dir ? path.join(dir, name + suffix) : '';
      if (candidate && executable(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}

/** The console script where the install puts it: PATH, each folder's .venv or venv, then pipx / uv tool. */
export function candidates(folders: readonly string[], env: Environment, platform: string = process.platform): string[] {
  const bin = platform === 'win32' ? path.join('Scripts', 'ghostwriter.exe') : path.join('bin', 'ghostwriter');
  const home = env.HOME ?? env.USERPROFILE;
  return [
    ...folders.flatMap((folder) => [path.join(folder, '.venv', bin), path.join(folder, 'venv', bin)]),
    ...(home ? [path.join(home, '.local', 'bin', platform === 'win32' ? 'ghostwriter.exe' : 'ghostwriter')] : []),
  ];
}

export function findServer(
  folders: readonly string[],
  env: Environment,
  platform: string = process.platform,
  executable: (file: string) => boolean = isExecutable,
): Found {
  const tried = ['ghostwriter on PATH', ...candidates(folders, env, platform)];
  const fromPath = onPath('ghostwriter', env, platform, executable);
  if (fromPath) {
    return { argv: [fromPath, 'serve'], tried };
  }
  const found = candidates(folders, env, platform).find(executable);
  return { argv: found ? [found, 'serve'] : undefined, tried };
}

const FIX =
  'Install it (see the Ghostwriter README: `pipx install /path/to/ghostwriter`, or a `.venv` in the workspace) ' +
  `or set \`${COMMAND_SETTING}\` to its command line, e.g. ["/path/to/ghostwriter", "serve"].`;

export function notFoundMessage(tried: readonly string[]): string {
  return `cannot start the language server: no ghostwriter command found (tried ${tried.join(', ')}). ${FIX}`;
}

export function notExecutableMessage(argv: readonly string[]): string {
  return `cannot start the language server: \`${argv[0]}\` (from \`${COMMAND_SETTING}\`) is not an executable command. ${FIX}`;
}

export function exitedMessage(argv: readonly string[], lastLines: readonly string[]): string {
  const said = lastLines.length ? ` It said: ${lastLines.join(' ').slice(-300)}` : '';
  return (
    `the language server \`${argv.join(' ')}\` exited before it started.${said} ` +
    `Run \`ghostwriter doctor\` in a terminal to see why, or change \`${COMMAND_SETTING}\`.`
  );
}

export type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error';

const LEVELS: Record<string, Level> = {
  debug: 'debug',
  info: 'info',
  warning: 'warn',
  warn: 'warn',
  error: 'error',
  critical: 'error',
};

/**
 * One stderr line of the server as a log entry. The server writes JSON lines with a `level`; anything
 * else on its stderr (a traceback, a Python start-up error) is an error.
 */
export function serverLogLine(line: string): { level: Level; text: string } {
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    return { level: 'error', text: line };
  }
  if (typeof entry !== 'object' || entry === null || typeof (entry as { msg?: unknown }).msg !== 'string') {
    return { level: 'error', text: line };
  }
  const { level, msg, logger, error, ts: _ts, ...fields } = entry as Record<string, unknown>;
  const where = typeof logger === 'string' ? `[${logger.replace(/^ghostwriter\./, '')}] ` : '';
  const extra = Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : '';
  const trace = typeof error === 'string' ? `\n${error}` : '';
  return { level: LEVELS[String(level)] ?? 'info', text: `${where}${msg}${extra}${trace}` };
}
