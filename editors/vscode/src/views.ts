import * as vscode from 'vscode';

import { budgetLine, formatMoney, lastLine, statusSummary, tallyLine } from './format';
import { ClientCommands, CompletionStats, UsageSummary } from './protocol';

/** One reusable side panel that shows the Markdown of "Explain Code at Cursor". */
export class ExplainPanel {
  private panel: vscode.WebviewPanel | undefined;

  async show(title: string, markdown: string): Promise<void> {
    const html = await renderMarkdown(markdown);
    if (!this.panel) {
      this.panel = vscode.window.createWebviewPanel(
        'ghostwriter.explain',
        'Ghostwriter: Explain',
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        { enableScripts: false, enableFindWidget: true },
      );
      this.panel.onDidDispose(() => (this.panel = undefined));
    } else {
      this.panel.reveal(vscode.ViewColumn.Beside, true);
    }
    this.panel.title = `Explain: ${title}`;
    this.panel.webview.html = page(this.panel.webview, title, html);
  }

  dispose(): void {
    this.panel?.dispose();
  }
}

async function renderMarkdown(markdown: string): Promise<string> {
  try {
    // The built-in Markdown extension renders (and sanitizes) exactly like the preview does.
    const html = await vscode.commands.executeCommand<string>('markdown.api.render', markdown);
    if (typeof html === 'string' && html.length > 0) {
      return html;
    }
  } catch {
    // Fall through to plain text.
  }
  return `<pre>${escapeHtml(markdown)}</pre>`;
}

function page(webview: vscode.Webview, title: string, body: string): string {
  const csp = `default-src 'none'; img-src ${webview.cspSource} https: data:; style-src 'unsafe-inline';`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<title>${escapeHtml(title)}</title>
<style>
  body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); line-height: 1.5; padding: 0 1em; }
  code, pre { font-family: var(--vscode-editor-font-family); }
  pre { background: var(--vscode-textCodeBlock-background); padding: .6em; overflow-x: auto; }
  h1.gw-title { font-size: 1.1em; opacity: .8; border-bottom: 1px solid var(--vscode-panel-border); }
</style></head>
<body><h1 class="gw-title">${escapeHtml(title)}</h1><div class="gw-explain">${body}</div></body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Read-only documents under the `ghostwriter-prompt:` scheme (the last prompt, usage JSON). */
export class ReadOnlyDocuments implements vscode.TextDocumentContentProvider {
  static readonly scheme = 'ghostwriter-prompt';
  private readonly contents = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.path) ?? '';
  }

  async open(name: string, content: string): Promise<vscode.TextEditor> {
    const uri = vscode.Uri.from({ scheme: ReadOnlyDocuments.scheme, path: `/${name}` });
    this.contents.set(uri.path, content);
    this.changed.fire(uri);
    const document = await vscode.workspace.openTextDocument(uri);
    return vscode.window.showTextDocument(document, { preview: true, viewColumn: vscode.ViewColumn.Beside });
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export function lastPromptText(result: unknown): string | undefined {
  if (result === null || result === undefined || result === '') {
    return undefined;
  }
  if (typeof result === 'string') {
    return result;
  }
  if (typeof result === 'object') {
    const record = result as Record<string, unknown>;
    if (typeof record.prompt === 'string' && Object.keys(record).length === 1) {
      return record.prompt;
    }
    const parts: string[] = [];
    for (const [key, value] of Object.entries(record)) {
      parts.push(`=== ${key} ===\n${typeof value === 'string' ? value : JSON.stringify(value, null, 2)}`);
    }
    return parts.join('\n\n');
  }
  return String(result);
}

interface UsageAction extends vscode.QuickPickItem {
  command?: string;
}

/** Usage details in a quick pick; the last rows run the related commands. */
export async function showUsageQuickPick(summary: UsageSummary, stats?: CompletionStats): Promise<void> {
  const currency = summary.session?.currency ?? 'USD';
  const items: UsageAction[] = [
    { label: 'Session', kind: vscode.QuickPickItemKind.Separator },
    { label: `$(pulse) ${statusSummary(summary)}`, detail: tallyLine(summary.session) },
    { label: 'Today', kind: vscode.QuickPickItemKind.Separator },
    {
      label: `$(calendar) ${formatMoney(summary.today?.cost ?? 0, summary.today?.currency ?? currency)}`,
      detail: tallyLine(summary.today),
    },
    { label: 'Last request', kind: vscode.QuickPickItemKind.Separator },
    { label: `$(history) ${summary.last?.feature ?? 'none'}`, detail: lastLine(summary.last, currency) },
  ];
  if (stats) {
    const rate = typeof stats.acceptRate === 'number' ? ` (${Math.round(stats.acceptRate * 100)}%)` : '';
    const gated = Object.entries(stats.gated ?? {})
      .map(([reason, count]) => `${reason} ${count}`)
      .join(', ');
    items.push(
      { label: 'Inline completions', kind: vscode.QuickPickItemKind.Separator },
      {
        label: `$(check) ${stats.accepted ?? 0} accepted of ${stats.shown ?? 0} shown${rate}`,
        detail:
          `${stats.requests ?? 0} requests · ${stats.modelCalls ?? 0} model calls · ` +
          `${stats.typedAheadHits ?? 0} typed-ahead reuses · ${stats.acceptedChars ?? 0} chars accepted` +
          (gated ? ` · skipped: ${gated}` : ''),
      },
    );
  }
  const budget = budgetLine(summary.budget, currency);
  if (budget || summary.state === 'paused') {
    items.push(
      { label: 'Budget', kind: vscode.QuickPickItemKind.Separator },
      {
        label: `${summary.state === 'paused' ? '$(debug-pause) paused' : '$(law) budget'}`,
        detail: [budget, summary.budget?.message || summary.message].filter(Boolean).join(' — '),
      },
    );
  }
  items.push(
    { label: 'Actions', kind: vscode.QuickPickItemKind.Separator },
    { label: '$(debug-restart) Reset session usage', command: ClientCommands.resetUsage },
    { label: '$(file-text) Show last prompt', command: ClientCommands.showLastPrompt },
    { label: '$(output) Show server output', command: ClientCommands.showOutput },
  );
  const choice = await vscode.window.showQuickPick(items, {
    title: `Ghostwriter usage — ${summary.state ?? 'ready'}${summary.message ? `: ${summary.message}` : ''}`,
    matchOnDetail: true,
    placeHolder: 'Token usage and cost; pick an action or press Escape',
  });
  if (choice?.command) {
    await vscode.commands.executeCommand(choice.command);
  }
}
