/**
 * Next-edit suggestions in the editor: asks `ghostwriter/nextEdit` after a pause in typing and on a
 * move to another line, draws the proposed diff where it applies, Tab jumps then accepts, Esc dismisses.
 * A suggestion is applied only to the document version it was computed for; otherwise it is dropped.
 * The decisions live in the pure state machine of ./nextEdit; this class performs its effects.
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';

import {
  type DocumentState,
  type NextEditEvent,
  type NextEditSuggestion,
  type Outcome,
  type Trigger,
  cursorTrigger,
  diffMarkdown,
  inlineText,
  parseSuggestion,
  planDiff,
  transition,
} from './nextEdit';
import { CLIENT_SECTION, ClientCommands, NEXT_EDIT_OUTCOME, NEXT_EDIT_REQUEST } from './protocol';

/** Context key for the keybindings: true while a next edit is drawn in the active editor. */
export const NEXT_EDIT_CONTEXT = 'ghostwriterClient.nextEditVisible';

/** JSON-RPC "method not found": a server without next edits; stop asking until it restarts. */
const METHOD_NOT_FOUND = -32601;

interface Shown {
  suggestion: NextEditSuggestion;
  editor: vscode.TextEditor;
}

export class NextEditController implements vscode.Disposable {
  private readonly deleted = vscode.window.createTextEditorDecorationType({
    backgroundColor: new vscode.ThemeColor('diffEditor.removedTextBackground'),
    textDecoration: 'line-through',
  });
  private readonly inserted = vscode.window.createTextEditorDecorationType({});
  private readonly disposables: vscode.Disposable[] = [];
  private shown: Shown | undefined;
  private pending: vscode.CancellationTokenSource | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly lastLine = new Map<string, number>();
  private unsupportedBy: LanguageClient | undefined;

  constructor(
    private readonly client: () => LanguageClient | undefined,
    /** The documents the language client serves (the same selector it was started with). */
    private readonly selector: vscode.DocumentSelector,
  ) {
    this.disposables.push(
      this.deleted,
      this.inserted,
      vscode.commands.registerCommand(ClientCommands.nextEditTrigger, () => this.request('manual')),
      vscode.commands.registerCommand(ClientCommands.nextEditJump, () => this.jump()),
      vscode.commands.registerCommand(ClientCommands.nextEditAccept, () => this.accept()),
      vscode.commands.registerCommand(ClientCommands.nextEditTab, () => this.tab()),
      vscode.commands.registerCommand(ClientCommands.nextEditDismiss, () => this.handle({ type: 'escape' })),
      vscode.workspace.onDidChangeTextDocument((event) => this.onChange(event)),
      vscode.window.onDidChangeTextEditorSelection((event) => this.onSelection(event)),
      vscode.window.onDidChangeActiveTextEditor((editor) => {
        if (this.shown && editor !== this.shown.editor) {
          this.handle({ type: 'left' });
        }
      }),
    );
  }

  dispose(): void {
    this.cancelPending();
    this.handle({ type: 'left' });
    vscode.Disposable.from(...this.disposables).dispose();
  }

  // -- the state machine's effects -----------------------------------------------------------------

  /** Feed one event through the state machine and perform what it decides. */
  private async handle(event: NextEditEvent, editor?: vscode.TextEditor): Promise<void> {
    const before = this.shown;
    const step = transition(before?.suggestion, event);
    if (step.outcome) {
      this.sendOutcome(step.outcome.id, step.outcome.outcome);
    }
    switch (step.effect) {
      case 'show':
        if (before) {
          this.undraw(before.editor);
        }
        if (editor && step.shown) {
          this.shown = { suggestion: step.shown, editor };
          this.draw(editor, step.shown);
        }
        return;
      case 'hide':
        this.shown = undefined;
        if (before) {
          this.undraw(before.editor);
        }
        return;
      case 'jump':
        if (before) {
          this.moveTo(before);
        }
        return;
      case 'apply':
        this.shown = undefined; // our own edit must not count as a user change of the shown suggestion
        if (before) {
          this.undraw(before.editor);
          await this.applyEdits(before);
        }
        return;
      case 'none':
        return;
    }
  }

  private documentState(editor: vscode.TextEditor): DocumentState {
    const cursor = editor.selection.active;
    return {
      uri: this.protocolUri(editor.document),
      version: editor.document.version,
      cursor: { line: cursor.line, character: cursor.character },
    };
  }

  private protocolUri(document: vscode.TextDocument): string {
    return this.client()?.code2ProtocolConverter.asUri(document.uri) ?? document.uri.toString();
  }

  private draw(editor: vscode.TextEditor, suggestion: NextEditSuggestion): void {
    const plan = planDiff(suggestion);
    const region = toRange(suggestion.range);
    const hover = new vscode.MarkdownString(diffMarkdown(editor.document.getText(region), suggestion.text));
    const deletions: vscode.DecorationOptions[] = [];
    const insertions: vscode.DecorationOptions[] = [];
    for (const mark of plan.marks) {
      if (mark.kind === 'delete') {
        deletions.push({ range: toRange(mark.range), hoverMessage: hover });
        continue;
      }
      const at = new vscode.Position(mark.at.line, mark.at.character);
      insertions.push({
        range: new vscode.Range(at, at),
        hoverMessage: hover,
        renderOptions: {
          after: {
            contentText: inlineText(mark.text),
            color: new vscode.ThemeColor('editorGhostText.foreground'),
            backgroundColor: new vscode.ThemeColor('diffEditor.insertedTextBackground'),
          },
        },
      });
    }
    editor.setDecorations(this.deleted, deletions);
    editor.setDecorations(this.inserted, insertions);
    void vscode.commands.executeCommand('setContext', NEXT_EDIT_CONTEXT, true);
  }

  private undraw(editor: vscode.TextEditor): void {
    editor.setDecorations(this.deleted, []);
    editor.setDecorations(this.inserted, []);
    void vscode.commands.executeCommand('setContext', NEXT_EDIT_CONTEXT, false);
  }

  private moveTo(shown: Shown): void {
    const at = new vscode.Position(shown.suggestion.jumpTo.line, shown.suggestion.jumpTo.character);
    shown.editor.selection = new vscode.Selection(at, at);
    shown.editor.revealRange(new vscode.Range(at, at), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  private async applyEdits(shown: Shown): Promise<void> {
    const { editor, suggestion } = shown;
    // The state machine checked the version; editor.edit applies all edits against that same version.
    const applied = await editor.edit((builder) => {
      for (const edit of suggestion.edits) {
        builder.replace(toRange(edit.range), edit.newText);
      }
    });
    if (!applied) {
      void vscode.window.setStatusBarMessage('Ghostwriter: the next edit no longer applies', 3000);
    }
  }

  private sendOutcome(id: string, outcome: Outcome): void {
    const client = this.client();
    if (client?.isRunning()) {
      void client.sendNotification(NEXT_EDIT_OUTCOME, { id, outcome });
    }
  }

  // -- triggers ---------------------------------------------------------------------------------------

  private config(): { enabled: boolean; debounceMs: number } {
    const config = vscode.workspace.getConfiguration(`${CLIENT_SECTION}.nextEdit`);
    return { enabled: config.get<boolean>('enabled', true), debounceMs: config.get<number>('debounceMs', 400) };
  }

  private onChange(event: vscode.TextDocumentChangeEvent): void {
    if (event.contentChanges.length === 0) {
      return;
    }
    if (this.shown && this.shown.editor.document === event.document) {
      const changes = event.contentChanges.map((change) => ({
        range: {
          start: { line: change.range.start.line, character: change.range.start.character },
          end: { line: change.range.end.line, character: change.range.end.character },
        },
        newText: change.text,
      }));
      void this.handle({ type: 'changed', document: this.documentState(this.shown.editor), changes });
    }
    if (vscode.window.activeTextEditor?.document === event.document) {
      this.schedule('edit');
    }
  }

  private onSelection(event: vscode.TextEditorSelectionChangeEvent): void {
    const key = event.textEditor.document.uri.toString();
    const line = event.selections[0].active.line;
    const moved = cursorTrigger(this.lastLine.get(key), line);
    this.lastLine.set(key, line);
    // While one is shown the cursor moves are the user's (or our jump's); they keep it, ask for nothing.
    if (moved && !this.shown && event.textEditor === vscode.window.activeTextEditor) {
      this.schedule('cursor');
    }
  }

  private schedule(trigger: Trigger): void {
    this.cancelPending();
    const { enabled, debounceMs } = this.config();
    if (enabled) {
      this.timer = setTimeout(() => void this.request(trigger), debounceMs);
    }
  }

  /** A new request, a keystroke or a move supersedes the one in flight: cancel it like completions. */
  private cancelPending(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.pending?.cancel();
    this.pending?.dispose();
    this.pending = undefined;
  }

  private served(client: LanguageClient, document: vscode.TextDocument): boolean {
    return this.unsupportedBy !== client && vscode.languages.match(this.selector, document) > 0;
  }

  private async request(trigger: Trigger): Promise<void> {
    const client = this.client();
    const editor = vscode.window.activeTextEditor;
    if (!client?.isRunning() || !editor || !this.served(client, editor.document)) {
      return;
    }
    this.cancelPending();
    const source = new vscode.CancellationTokenSource();
    this.pending = source;
    const asked = this.documentState(editor);
    const params = { textDocument: { uri: asked.uri, version: asked.version }, position: asked.cursor, trigger };
    let result: unknown;
    try {
      result = await client.sendRequest(NEXT_EDIT_REQUEST, params, source.token);
    } catch (error) {
      if ((error as { code?: number } | undefined)?.code === METHOD_NOT_FOUND) {
        this.unsupportedBy = client;
      }
      return; // cancelled, superseded, or failed: no suggestion
    } finally {
      if (this.pending === source) {
        this.pending = undefined;
      }
      source.dispose();
    }
    if (source.token.isCancellationRequested) {
      return;
    }
    // The answer is checked against the document as it is now, not as it was asked for.
    await this.handle(
      { type: 'answer', suggestion: parseSuggestion(result), document: this.documentState(editor) },
      editor,
    );
  }

  // -- keys -----------------------------------------------------------------------------------------

  private async tab(): Promise<void> {
    const shown = this.shown;
    if (!shown) {
      await vscode.commands.executeCommand('tab'); // the keybinding's context was stale: plain Tab
      return;
    }
    await this.handle({ type: 'tab', document: this.documentState(shown.editor) });
  }

  private jump(): void {
    if (this.shown) {
      this.moveTo(this.shown);
    }
  }

  /** Accept wherever the cursor is: the state machine sees a Tab on the suggestion's own line. */
  private async accept(): Promise<void> {
    const shown = this.shown;
    if (!shown) {
      return;
    }
    const document = { ...this.documentState(shown.editor), cursor: shown.suggestion.jumpTo };
    await this.handle({ type: 'tab', document });
  }
}

function toRange(range: { start: { line: number; character: number }; end: { line: number; character: number } }) {
  return new vscode.Range(range.start.line, range.start.character, range.end.line, range.end.character);
}
