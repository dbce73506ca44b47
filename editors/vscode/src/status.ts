import * as vscode from 'vscode';

import { budgetLine, formatMoney, lastLine, statusSummary, tallyLine } from './format';
import { ClientCommands, UsageSummary } from './protocol';

type Phase = 'starting' | 'running' | 'stopped' | 'failed';

/** The status bar item: server lifecycle first, then the usage the server pushes. */
export class UsageStatusItem implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private phase: Phase = 'starting';
  private failure = '';
  private usage: UsageSummary | undefined;

  constructor(private enabled: boolean) {
    this.item = vscode.window.createStatusBarItem('ghostwriter.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'Ghostwriter';
    this.item.command = ClientCommands.showUsage;
    this.render();
  }

  get lastUsage(): UsageSummary | undefined {
    return this.usage;
  }

  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
    this.render();
  }

  starting(): void {
    this.phase = 'starting';
    this.render();
  }

  running(): void {
    this.phase = 'running';
    this.render();
  }

  stopped(): void {
    this.phase = 'stopped';
    this.render();
  }

  failed(message: string): void {
    this.phase = 'failed';
    this.failure = message;
    this.render();
  }

  update(summary: UsageSummary): void {
    this.usage = summary;
    this.render();
  }

  dispose(): void {
    this.item.dispose();
  }

  private render(): void {
    const item = this.item;
    item.backgroundColor = undefined;
    if (this.phase === 'starting') {
      item.text = '$(loading~spin) Ghostwriter: starting';
      item.tooltip = 'Ghostwriter: starting the language server…';
    } else if (this.phase === 'stopped') {
      item.text = '$(circle-slash) Ghostwriter: stopped';
      item.tooltip = 'Ghostwriter: the language server is not running. Run "Ghostwriter: Restart Language Server".';
      item.command = ClientCommands.restartServer;
    } else if (this.phase === 'failed') {
      item.text = '$(error) Ghostwriter: failed';
      item.tooltip = `Ghostwriter could not start: ${this.failure}\n\nClick to open the server output.`;
      item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
      item.command = ClientCommands.showOutput;
    } else {
      item.command = ClientCommands.showUsage;
      this.renderUsage();
    }
    if (this.enabled) {
      item.show();
    } else {
      item.hide();
    }
  }

  private renderUsage(): void {
    const item = this.item;
    const summary = this.usage;
    if (!summary) {
      item.text = '$(sparkle) Ghostwriter';
      item.tooltip = 'Ghostwriter: ready, no model request yet. Click for usage details.';
      return;
    }
    const state = summary.state ?? 'ready';
    const icon = { ready: '$(sparkle)', busy: '$(loading~spin)', paused: '$(debug-pause)', error: '$(warning)' }[state];
    let text = `${icon} ${statusSummary(summary)}`;
    if (state === 'paused') {
      text += ' · paused';
      item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
    } else if (state === 'error') {
      item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
    }
    item.text = text;
    item.tooltip = usageTooltip(summary);
  }
}

export function usageTooltip(summary: UsageSummary): vscode.MarkdownString {
  const currency = summary.session?.currency ?? 'USD';
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**Ghostwriter** — ${summary.state ?? 'ready'}`);
  if (summary.message) {
    md.appendMarkdown(`: ${escapeMarkdown(summary.message)}`);
  }
  md.appendMarkdown('\n\n');
  const rows: Array<[string, string]> = [
    ['Session', tallyLine(summary.session)],
    ['Today', tallyLine(summary.today)],
    ['Last', lastLine(summary.last, currency)],
  ];
  const budget = budgetLine(summary.budget, currency);
  if (budget) {
    rows.push(['Budget', budget]);
  }
  if (summary.session?.savedCost) {
    rows.push(['Saved by cache', formatMoney(summary.session.savedCost, currency)]);
  }
  md.appendMarkdown('| | |\n|---|---|\n');
  for (const [label, value] of rows) {
    md.appendMarkdown(`| ${label} | ${escapeMarkdown(value)} |\n`);
  }
  md.appendMarkdown('\nClick for details.');
  return md;
}

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+!|<>]/g, (c) => `\\${c}`);
}
