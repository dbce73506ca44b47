/**
 * Next-edit suggestions: the pure part (no `vscode` import), unit-tested under test/unit/.
 *
 * The server answers `ghostwriter/nextEdit` with minimal edits for one document version; this module
 * decides whether a suggestion still applies, what each key does (the state machine), and how the
 * diff is drawn.
 */

export interface Position {
  line: number;
  character: number;
}
export interface Range {
  start: Position;
  end: Position;
}
export interface TextEdit {
  range: Range;
  newText: string;
}
export type Trigger = 'edit' | 'cursor' | 'manual';
export type Outcome = 'accepted' | 'rejected' | 'ignored';

export interface NextEditSuggestion {
  id: string;
  textDocument: { uri: string; version: number };
  range: Range;
  text: string;
  edits: TextEdit[];
  jumpTo: Position;
}

/** Where the editor stands when an event happens. */
export interface DocumentState {
  uri: string;
  version: number;
  cursor: Position;
}

/**
 * What happened: an answer arrived, Tab or Esc was pressed, the document changed, or the user left
 * the editor the suggestion is shown in.
 */
export type NextEditEvent =
  | { type: 'answer'; suggestion: NextEditSuggestion | undefined; document: DocumentState }
  | { type: 'tab'; document: DocumentState }
  | { type: 'escape' }
  | { type: 'changed'; document: DocumentState; changes?: TextEdit[] }
  | { type: 'left' };

/** What the controller must do: the suggestion now shown (if any), an effect, and an outcome to report. */
export interface Transition {
  shown: NextEditSuggestion | undefined;
  effect: 'none' | 'show' | 'jump' | 'apply' | 'hide';
  /** Reported for the suggestion that stops being shown (or is never shown). */
  outcome?: { id: string; outcome: Outcome };
}

/** A drawn piece of the diff: text struck out in place, or text shown after a position. */
export type DiffMark = { kind: 'delete'; range: Range } | { kind: 'insert'; at: Position; text: string };

export interface DiffPlan {
  marks: DiffMark[];
  /** Inserted text spans lines: an after-decoration cannot show it, so a hover carries the diff. */
  multiLine: boolean;
}

const isEmpty = (range: Range): boolean =>
  range.start.line === range.end.line && range.start.character === range.end.character;

/** URIs as the server may echo them back: one side percent-encoded, the other not, is the same file. */
export function sameUri(a: string, b: string): boolean {
  if (a === b) {
    return true;
  }
  try {
    return decodeURIComponent(a) === decodeURIComponent(b);
  } catch {
    return false;
  }
}

/** The suggestion may be applied only to the very version it was computed for. */
export function isCurrent(suggestion: NextEditSuggestion, uri: string, version: number): boolean {
  return sameUri(suggestion.textDocument.uri, uri) && suggestion.textDocument.version === version;
}

const isPosition = (value: unknown): value is Position =>
  typeof (value as Position | undefined)?.line === 'number' &&
  typeof (value as Position | undefined)?.character === 'number';
const isRange = (value: unknown): value is Range =>
  isPosition((value as Range | undefined)?.start) && isPosition((value as Range | undefined)?.end);
const isEdit = (value: unknown): value is TextEdit =>
  isRange((value as TextEdit | undefined)?.range) && typeof (value as TextEdit | undefined)?.newText === 'string';

/** Is a result shaped like a suggestion? Anything else is treated as "no suggestion". */
export function parseSuggestion(value: unknown): NextEditSuggestion | undefined {
  if (typeof value !== 'object' || value === null) {
    return undefined;
  }
  const s = value as Partial<NextEditSuggestion>;
  const ok =
    typeof s.id === 'string' &&
    typeof s.textDocument?.uri === 'string' &&
    typeof s.textDocument?.version === 'number' &&
    isRange(s.range) &&
    typeof s.text === 'string' &&
    Array.isArray(s.edits) &&
    s.edits.length > 0 &&
    s.edits.every(isEdit) &&
    isPosition(s.jumpTo);
  return ok ? (s as NextEditSuggestion) : undefined;
}

/** Tab jumps to the suggestion while the cursor is on another line, and accepts once it is there. */
export function tabAction(suggestion: NextEditSuggestion, cursor: Position): 'jump' | 'accept' {
  return cursor.line === suggestion.jumpTo.line ? 'accept' : 'jump';
}

/**
 * The state machine: idle → (answer for the current version) shown → Tab: jump → Tab: apply;
 * Esc dismisses (rejected); a change of the document or leaving its editor drops it (ignored).
 * An answer or a Tab for another version than the suggestion's never shows or applies it.
 */
export function transition(shown: NextEditSuggestion | undefined, event: NextEditEvent): Transition {
  const drop = (outcome: Outcome): Transition =>
    shown ? { shown: undefined, effect: 'hide', outcome: { id: shown.id, outcome } } : { shown, effect: 'none' };
  switch (event.type) {
    case 'answer': {
      const next = event.suggestion;
      if (!next) {
        return { shown, effect: 'none' };
      }
      if (!isCurrent(next, event.document.uri, event.document.version)) {
        return { shown, effect: 'none', outcome: { id: next.id, outcome: 'ignored' } };
      }
      // A newer answer replaces the one shown; the old one was ignored.
      return { shown: next, effect: 'show', outcome: shown ? { id: shown.id, outcome: 'ignored' } : undefined };
    }
    case 'tab': {
      if (!shown) {
        return { shown, effect: 'none' };
      }
      if (!isCurrent(shown, event.document.uri, event.document.version)) {
        return drop('ignored');
      }
      if (tabAction(shown, event.document.cursor) === 'jump') {
        return { shown, effect: 'jump' };
      }
      return { shown: undefined, effect: 'apply', outcome: { id: shown.id, outcome: 'accepted' } };
    }
    case 'escape':
      return drop('rejected');
    case 'changed':
      if (!shown || isCurrent(shown, event.document.uri, event.document.version)) {
        return { shown, effect: 'none' };
      }
      // Applied another way (the server's "Apply next edit" quick fix, which reports it accepted itself).
      if (event.changes && sameEdits(shown.edits, event.changes)) {
        return { shown: undefined, effect: 'hide' };
      }
      return drop('ignored');
    case 'left':
      return drop('ignored');
  }
}

const editKey = (edit: TextEdit): string =>
  `${edit.range.start.line}:${edit.range.start.character}-${edit.range.end.line}:${edit.range.end.character}=${edit.newText}`;

/** Are a document change's pieces exactly the suggestion's edits (in any order)? */
export function sameEdits(edits: TextEdit[], changes: TextEdit[]): boolean {
  const want = edits.map(editKey).sort();
  const got = changes.map(editKey).sort();
  return want.length === got.length && want.every((key, i) => key === got[i]);
}

/** Each edit becomes a struck-out deletion (if it removes text) and an insertion (if it adds text). */
export function planDiff(suggestion: NextEditSuggestion): DiffPlan {
  const marks: DiffMark[] = [];
  let multiLine = false;
  for (const edit of suggestion.edits) {
    if (!isEmpty(edit.range)) {
      marks.push({ kind: 'delete', range: edit.range });
    }
    if (edit.newText.length > 0) {
      marks.push({ kind: 'insert', at: edit.range.end, text: edit.newText });
      multiLine ||= edit.newText.includes('\n');
    }
  }
  return { marks, multiLine };
}

/** An inserted text as one decoration line: line breaks shown as a return symbol. */
export function inlineText(text: string): string {
  return text.replace(/\r?\n/g, ' ⏎ ');
}

/** A cursor move triggers a request only when it changes line (moves within a line are noise). */
export function cursorTrigger(previousLine: number | undefined, line: number): boolean {
  return previousLine !== undefined && previousLine !== line;
}

/** The hover text: a unified-style diff of the rewritten region (unchanged lines kept as context). */
export function diffMarkdown(oldRegion: string, newRegion: string): string {
  const oldLines = oldRegion.replace(/\n$/, '').split('\n');
  const newLines = newRegion.replace(/\n$/, '').split('\n');
  let head = 0;
  while (head < oldLines.length && head < newLines.length && oldLines[head] === newLines[head]) {
    head += 1;
  }
  let tail = 0;
  while (
    tail < oldLines.length - head &&
    tail < newLines.length - head &&
    oldLines[oldLines.length - 1 - tail] === newLines[newLines.length - 1 - tail]
  ) {
    tail += 1;
  }
  const lines = [
    ...oldLines.slice(0, head).map((line) => `  ${line}`),
    ...oldLines.slice(head, oldLines.length - tail).map((line) => `- ${line}`),
    ...newLines.slice(head, newLines.length - tail).map((line) => `+ ${line}`),
    ...oldLines.slice(oldLines.length - tail).map((line) => `  ${line}`),
  ];
  return ['Ghostwriter next edit (Tab to jump, then accept; Esc to dismiss):', '```diff', ...lines, '```'].join('\n');
}
