import * as path from 'path';
import * as vscode from 'vscode';

import { findServer, notExecutableMessage, notFoundMessage, onPath } from './launch';
import { CLIENT_SECTION, SERVER_SECTION } from './protocol';

type Json = Record<string, unknown>;

/** The `ghostwriter.*` keys this extension declares (generated from the server's schema). */
export function declaredServerKeys(packageJSON: unknown): string[] {
  const contributes = (packageJSON as { contributes?: { configuration?: unknown } }).contributes;
  const sections = Array.isArray(contributes?.configuration) ? contributes.configuration : [contributes?.configuration];
  const keys: string[] = [];
  for (const section of sections) {
    const properties = (section as { properties?: Json } | undefined)?.properties ?? {};
    keys.push(...Object.keys(properties).filter((key) => key.startsWith(`${SERVER_SECTION}.`)));
  }
  return keys;
}

/**
 * The `ghostwriter` settings the user actually set, as one nested object.
 *
 * Defaults are left out on purpose: the server has its own defaults and lower-priority sources
 * (its settings file, environment variables) that an editor echoing every default would mask.
 */
export function explicitServerSettings(keys: readonly string[], scope?: vscode.ConfigurationScope | null): Json {
  const config = vscode.workspace.getConfiguration(undefined, scope);
  const result: Json = {};
  for (const key of keys) {
    const inspected = config.inspect(key);
    const value = inspected?.workspaceFolderValue ?? inspected?.workspaceValue ?? inspected?.globalValue;
    if (value === undefined) {
      continue;
    }
    const path = key.slice(SERVER_SECTION.length + 1).split('.');
    let node = result;
    for (const name of path.slice(0, -1)) {
      const child = node[name];
      node = (typeof child === 'object' && child !== null ? child : (node[name] = {})) as Json;
    }
    node[path[path.length - 1]] = clone(value);
  }
  return result;
}

/** The subtree under a dotted section such as `ghostwriter.completion` (for workspace/configuration). */
export function subSection(settings: Json, section: string): unknown {
  if (section === SERVER_SECTION) {
    return settings;
  }
  let node: unknown = settings;
  for (const name of section.slice(SERVER_SECTION.length + 1).split('.')) {
    if (typeof node !== 'object' || node === null) {
      return null;
    }
    node = (node as Json)[name];
  }
  return node ?? null;
}

export interface ServerLaunch {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string | undefined;
  /** Why it cannot start (nothing found, not executable), in one sentence with the fix; else undefined. */
  problem?: string;
}

export function serverLaunch(): ServerLaunch {
  const config = vscode.workspace.getConfiguration(CLIENT_SECTION);
  const raw = config.get<unknown>('server.command');
  let argv: string[] = Array.isArray(raw)
    ? raw.map(String).filter((part) => part.length > 0)
    : typeof raw === 'string'
      ? raw.split(/\s+/).filter((part) => part.length > 0)
      : [];
  const folders = (vscode.workspace.workspaceFolders ?? []).map((folder) => folder.uri.fsPath);
  let problem: string | undefined;
  if (argv.length === 0) {
    const found = findServer(folders, process.env);
    argv = found.argv ?? ['ghostwriter', 'serve'];
    problem = found.argv ? undefined : notFoundMessage(found.tried);
  }
  const envSetting = config.get<Record<string, unknown>>('server.env') ?? {};
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(envSetting)) {
    if (value !== null && value !== undefined) {
      env[name] = String(value);
    }
  }
  const cwdSetting = config.get<string>('server.cwd') ?? '';
  const cwd = cwdSetting || vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (!problem) {
    argv[0] = expandHome(argv[0]);
    // A relative path runs from the server's working directory, so check it from there.
    const checked = /[\\/]/.test(argv[0]) && cwd ? path.resolve(expandHome(cwd), argv[0]) : argv[0];
    problem = onPath(checked, { ...process.env, ...env }) ? undefined : notExecutableMessage(argv);
  }
  return { command: argv[0], args: argv.slice(1), env, cwd: cwd ? expandHome(cwd) : undefined, problem };
}

function expandHome(path: string): string {
  const home = process.env.HOME ?? process.env.USERPROFILE;
  return home && (path === '~' || path.startsWith('~/')) ? home + path.slice(1) : path;
}

function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}
