import * as vscode from 'vscode';
import * as readline from 'readline';
import type { Readable } from 'stream';
import {
  CloseAction,
  ConfigurationParams,
  DidChangeConfigurationNotification,
  ErrorAction,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
  TransportKind,
} from 'vscode-languageclient/node';

import { AcceptedCompletion, inlineCompletionMiddleware } from './inline';
import { COMMAND_SETTING, exitedMessage, serverLogLine } from './launch';
import { NextEditController } from './nextEditController';
import {
  CLIENT_SECTION,
  ClientCommands,
  DID_ACCEPT_COMPLETION,
  SERVER_SECTION,
  CompletionStats,
  ServerCommands,
  USAGE_NOTIFICATION,
  UsageSummary,
} from './protocol';
import { declaredServerKeys, explicitServerSettings, serverLaunch, subSection } from './settings';
import { UsageStatusItem } from './status';
import { ExplainPanel, lastPromptText, ReadOnlyDocuments, showUsageQuickPick } from './views';

/** Languages the server has grammars for (context/languages.py). */
export const LANGUAGES = [
  'python',
  'javascript',
  'javascriptreact',
  'typescript',
  'typescriptreact',
  'go',
  'rust',
  'java',
] as const;

/** The documents the language client serves. */
const DOCUMENT_SELECTOR = LANGUAGES.flatMap((language) => [
  { scheme: 'file', language },
  { scheme: 'untitled', language },
]);

const RUNNING_CONTEXT = 'ghostwriterClient.running';

class Ghostwriter implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private readonly output = vscode.window.createOutputChannel('Ghostwriter', { log: true });
  private readonly status: UsageStatusItem;
  private readonly explainPanel = new ExplainPanel();
  private readonly documents = new ReadOnlyDocuments();
  private readonly serverKeys: string[];
  private readonly disposables: vscode.Disposable[] = [];
  private starting: Promise<void> | undefined;
  /** The server's last stderr lines, for the one message when it dies before answering initialize. */
  private lastStderr: string[] = [];

  constructor(private readonly context: vscode.ExtensionContext) {
    this.serverKeys = declaredServerKeys(context.extension.packageJSON);
    this.status = new UsageStatusItem(this.statusBarEnabled());
    this.disposables.push(
      this.output,
      this.status,
      new NextEditController(() => (this.client?.isRunning() ? this.client : undefined), DOCUMENT_SELECTOR),
      vscode.workspace.registerTextDocumentContentProvider(ReadOnlyDocuments.scheme, this.documents),
      vscode.workspace.onDidChangeConfiguration((event) => this.onConfigurationChanged(event)),
      vscode.commands.registerCommand(ClientCommands.explain, () => this.guard('explain', () => this.explain())),
      vscode.commands.registerCommand(ClientCommands.showUsage, () => this.guard('show usage', () => this.showUsage())),
      vscode.commands.registerCommand(ClientCommands.resetUsage, () =>
        this.guard('reset usage', () => this.resetUsage()),
      ),
      vscode.commands.registerCommand(ClientCommands.showLastPrompt, () =>
        this.guard('show last prompt', () => this.showLastPrompt()),
      ),
      vscode.commands.registerCommand(ClientCommands.restartServer, () => this.guard('restart', () => this.restart())),
      vscode.commands.registerCommand(ClientCommands.showOutput, () => this.output.show(true)),
      vscode.commands.registerCommand(ClientCommands.didAcceptCompletion, (accepted: AcceptedCompletion) =>
        this.didAcceptCompletion(accepted),
      ),
    );
  }

  // -- lifecycle ------------------------------------------------------------------------------------

  start(): Promise<void> {
    this.starting ??= this.doStart().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async doStart(): Promise<void> {
    this.status.starting();
    this.startFailureShown = false;
    const launch = serverLaunch();
    const argv = [launch.command, ...launch.args];
    if (launch.problem) {
      this.output.error(launch.problem);
      this.status.failed(launch.problem);
      this.reportStartFailure(launch.problem);
      return;
    }
    this.output.info(`Starting the server: ${argv.join(' ')}${launch.cwd ? ` (in ${launch.cwd})` : ''}`);
    this.lastStderr = [];
    let running = false;
    const serverOptions: ServerOptions = {
      command: launch.command,
      args: launch.args,
      transport: TransportKind.stdio,
      options: { cwd: launch.cwd, env: { ...process.env, ...launch.env } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: DOCUMENT_SELECTOR,
      outputChannel: this.output,
      // The server logs JSON lines with their level on stderr; the default would show each as [error].
      stdioOptions: {
        stdout: () => undefined, // stdout is the LSP channel
        stderr: (input) => this.pipeServerLog(input),
      },
      // Before the server ever ran, a crash is a start failure: one message, no restart loop of pop-ups.
      errorHandler: {
        error: () => ({ action: running ? ErrorAction.Continue : ErrorAction.Shutdown, handled: !running }),
        closed: () => {
          if (running) {
            return { action: CloseAction.Restart };
          }
          const message = exitedMessage(argv, this.lastStderr.slice(-3));
          this.status.failed(message);
          this.reportStartFailure(message);
          return { action: CloseAction.DoNotRestart, handled: true };
        },
      },
      // The `ghostwriter` section as the user set it; see explicitServerSettings for why not defaults.
      initializationOptions: () => explicitServerSettings(this.serverKeys),
      initializationFailedHandler: (error) => {
        this.status.failed(error instanceof Error ? error.message : String(error));
        return false;
      },
      middleware: {
        workspace: {
          configuration: (params, token, next) => this.answerConfiguration(params, token, next),
        },
        provideInlineCompletionItems: inlineCompletionMiddleware(() => this.client),
      },
    };
    const client = new LanguageClient(CLIENT_SECTION, 'Ghostwriter', serverOptions, clientOptions);
    this.client = client;
    client.onDidChangeState((event) => {
      if (client !== this.client) {
        return;
      }
      const isRunning = event.newState === State.Running;
      running ||= isRunning;
      void vscode.commands.executeCommand('setContext', RUNNING_CONTEXT, isRunning);
      if (isRunning) {
        this.status.running();
      } else if (event.newState === State.Starting) {
        this.status.starting();
      } else {
        this.status.stopped();
      }
    });
    client.onNotification(USAGE_NOTIFICATION, (summary: UsageSummary) => this.status.update(summary));
    try {
      await client.start();
    } catch (error) {
      if (!running && this.startFailureShown) {
        return; // the close handler has said it already
      }
      const message = error instanceof Error ? error.message : String(error);
      this.output.error(`The server failed to start: ${message}`);
      this.status.failed(message);
      this.reportStartFailure(`the language server failed to start (${message}).`);
      return;
    }
    // Show numbers at once (today's usage persists across sessions) instead of waiting for a request.
    try {
      const summary = await this.execute<UsageSummary>(ServerCommands.showUsage);
      if (summary && typeof summary === 'object') {
        this.status.update(summary);
      }
    } catch {
      // An older server without the command: the first notification fills the item.
    }
  }

  private startFailureShown = false;

  /** The one message for a server that cannot start: what was tried and the setting that fixes it. */
  private reportStartFailure(message: string): void {
    this.startFailureShown = true;
    void vscode.window.showErrorMessage(`Ghostwriter: ${message}`, 'Open Settings', 'Show Output').then((choice) => {
      if (choice === 'Show Output') {
        this.output.show(true);
      } else if (choice === 'Open Settings') {
        void vscode.commands.executeCommand('workbench.action.openSettings', COMMAND_SETTING);
      }
    });
  }

  /** Server stderr → the log output channel, each line at the level the server gave it. */
  private pipeServerLog(input: Readable): void {
    const lines = readline.createInterface({ input, crlfDelay: Infinity, terminal: false, historySize: 0 });
    lines.on('line', (line) => {
      this.lastStderr = [...this.lastStderr.slice(-9), line];
      const { level, text } = serverLogLine(line);
      this.output[level](text);
    });
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        await client.stop(5000);
      } catch (error) {
        this.output.appendLine(`Stopping the server: ${String(error)}`);
      }
      try {
        await client.dispose();
      } catch {
        // Already gone.
      }
    }
    void vscode.commands.executeCommand('setContext', RUNNING_CONTEXT, false);
  }

  async restart(): Promise<void> {
    await this.starting?.catch(() => undefined);
    await this.stop();
    await this.start();
  }

  dispose(): void {
    this.explainPanel.dispose();
    this.documents.dispose();
    for (const disposable of this.disposables) {
      disposable.dispose();
    }
  }

  // -- settings -------------------------------------------------------------------------------------

  private statusBarEnabled(): boolean {
    return vscode.workspace.getConfiguration(CLIENT_SECTION).get<boolean>('statusBar.enabled', true);
  }

  private async answerConfiguration(
    params: ConfigurationParams,
    token: vscode.CancellationToken,
    next: (params: ConfigurationParams, token: vscode.CancellationToken) => unknown,
  ): Promise<unknown[]> {
    const ours = (section: string | undefined) =>
      section === undefined || section === SERVER_SECTION || section.startsWith(`${SERVER_SECTION}.`);
    const others = params.items.filter((item) => !ours(item.section));
    let answered: unknown[] = [];
    if (others.length > 0) {
      const result = await next({ items: others }, token);
      answered = Array.isArray(result) ? result : others.map(() => null);
    }
    return params.items.map((item) => {
      if (!ours(item.section)) {
        return answered.shift() ?? null;
      }
      const scope = item.scopeUri ? this.client?.protocol2CodeConverter.asUri(item.scopeUri) : undefined;
      const settings = explicitServerSettings(this.serverKeys, scope);
      return item.section === undefined ? { [SERVER_SECTION]: settings } : subSection(settings, item.section);
    });
  }

  private async onConfigurationChanged(event: vscode.ConfigurationChangeEvent): Promise<void> {
    if (event.affectsConfiguration(`${CLIENT_SECTION}.statusBar`)) {
      this.status.setEnabled(this.statusBarEnabled());
    }
    if (event.affectsConfiguration(`${CLIENT_SECTION}.server`)) {
      this.output.appendLine('Server launch settings changed; restarting the server.');
      await this.restart();
      return;
    }
    if (event.affectsConfiguration(SERVER_SECTION) && this.client?.isRunning()) {
      await this.client.sendNotification(DidChangeConfigurationNotification.type, {
        settings: { [SERVER_SECTION]: explicitServerSettings(this.serverKeys) },
      });
    }
  }

  // -- commands -------------------------------------------------------------------------------------

  /** Run a command; a failure becomes one readable message (and a log line), not a stack trace. */
  private async guard(name: string, body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.output.error(`${name} failed: ${message}`);
      const choice = await vscode.window.showErrorMessage(`Ghostwriter: ${name} failed: ${message}`, 'Show Output');
      if (choice === 'Show Output') {
        this.output.show(true);
      }
    }
  }

  private async runningClient(): Promise<LanguageClient | undefined> {
    await this.starting?.catch(() => undefined);
    if (this.client?.isRunning()) {
      return this.client;
    }
    const choice = await vscode.window.showWarningMessage(
      'Ghostwriter: the language server is not running.',
      'Restart Server',
      'Show Output',
    );
    if (choice === 'Restart Server') {
      await this.restart();
      return this.client?.isRunning() ? this.client : undefined;
    }
    if (choice === 'Show Output') {
      this.output.show(true);
    }
    return undefined;
  }

  private async execute<T>(command: string, args: unknown[] = []): Promise<T | undefined> {
    const client = this.client;
    if (!client?.isRunning()) {
      return undefined;
    }
    return (await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args })) as T;
  }

  private async explain(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage('Ghostwriter: open a file and put the cursor on the code to explain.');
      return;
    }
    const client = await this.runningClient();
    if (!client) {
      return;
    }
    const position = editor.selection.active;
    const uri = client.code2ProtocolConverter.asUri(editor.document.uri);
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: 'Ghostwriter: explaining…' },
      () =>
        this.execute<unknown>(ServerCommands.explain, [uri, { line: position.line, character: position.character }]),
    );
    const markdown =
      typeof result === 'string' ? result : ((result as { value?: string } | undefined)?.value ?? '');
    if (!markdown) {
      // An empty answer is also what a failing backend gives (the server said why in its own message).
      const usage = await this.execute<UsageSummary>(ServerCommands.showUsage).catch(() => undefined);
      if (usage?.state === 'error') {
        this.status.update(usage);
        void vscode.window.showWarningMessage(
          `Ghostwriter: cannot explain: the model backend is not answering${usage.message ? `: ${usage.message}` : ''}.`,
        );
      } else {
        void vscode.window.showInformationMessage('Ghostwriter: nothing to explain here.');
      }
      return;
    }
    const word = editor.document.getWordRangeAtPosition(position);
    const subject = word ? editor.document.getText(word) : `line ${position.line + 1}`;
    await this.explainPanel.show(`${subject} — ${vscode.workspace.asRelativePath(editor.document.uri)}`, markdown);
  }

  private async fetchUsage(): Promise<UsageSummary | undefined> {
    const client = await this.runningClient();
    if (!client) {
      return this.status.lastUsage;
    }
    try {
      const summary = await this.execute<UsageSummary>(ServerCommands.showUsage);
      if (summary && typeof summary === 'object') {
        this.status.update(summary);
        return summary;
      }
    } catch (error) {
      // The pushed summary is at most a second old: show it rather than nothing.
      this.output.warn(`${ServerCommands.showUsage} failed (${String(error)}); showing the last pushed usage`);
    }
    return this.status.lastUsage;
  }

  private async showUsage(): Promise<void> {
    const summary = await this.fetchUsage();
    if (!summary) {
      void vscode.window.showInformationMessage('Ghostwriter: no usage reported yet.');
      return;
    }
    let stats: CompletionStats | undefined;
    try {
      stats = await this.execute<CompletionStats>(ServerCommands.completionStats);
    } catch {
      stats = undefined; // optional: a server without acceptance statistics
    }
    this.output.info(`Usage: ${JSON.stringify(summary)}${stats ? `; completions: ${JSON.stringify(stats)}` : ''}`);
    await showUsageQuickPick(summary, stats && typeof stats === 'object' ? stats : undefined);
  }

  private async resetUsage(): Promise<void> {
    if (!(await this.runningClient())) {
      return;
    }
    const summary = await this.execute<UsageSummary>(ServerCommands.resetUsage);
    if (summary && typeof summary === 'object') {
      this.status.update(summary);
    }
    void vscode.window.showInformationMessage('Ghostwriter: session usage reset.');
  }

  private async showLastPrompt(): Promise<void> {
    if (!(await this.runningClient())) {
      return;
    }
    const text = lastPromptText(await this.execute<unknown>(ServerCommands.showLastPrompt));
    if (text === undefined) {
      void vscode.window.showInformationMessage('Ghostwriter: no prompt has been sent yet.');
      return;
    }
    await this.documents.open('last-prompt.txt', text);
  }

  private async didAcceptCompletion(accepted: AcceptedCompletion): Promise<void> {
    const client = this.client;
    if (client?.isRunning() && accepted?.itemId !== undefined) {
      await client.sendNotification(DID_ACCEPT_COMPLETION, {
        uri: accepted.uri,
        itemId: accepted.itemId,
        acceptedLength: accepted.acceptedLength,
      });
    }
  }
}

let instance: Ghostwriter | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  instance = new Ghostwriter(context);
  context.subscriptions.push(instance);
  await instance.start();
}

export async function deactivate(): Promise<void> {
  await instance?.stop();
  instance = undefined;
}
