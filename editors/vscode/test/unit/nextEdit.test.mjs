// Unit tests of src/nextEdit.ts (bundled to out/nextEdit.cjs by `npm run test:unit`), table-driven.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';

const require = createRequire(import.meta.url);
const ne = require('../../out/nextEdit.cjs');

const URI = 'file:///work/a.py';
const pos = (line, character) => ({ line, character });
const range = (l1, c1, l2, c2) => ({ start: pos(l1, c1), end: pos(l2, c2) });
const suggestion = (edits, version = 3, id = 's1') => ({
  id,
  textDocument: { uri: URI, version },
  range: range(4, 0, 6, 0),
  text: 'new\n',
  edits,
  jumpTo: edits[0]?.range.start ?? pos(0, 0),
});
const EDIT = { range: range(4, 2, 4, 5), newText: 'x' };
const doc = (version, line = 0, uri = URI) => ({ uri, version, cursor: pos(line, 0) });

test('isCurrent: only the exact uri and version the suggestion was computed for', () => {
  const s = suggestion([EDIT], 3);
  const cases = [
    [URI, 3, true],
    [URI, 4, false],
    [URI, 2, false],
    ['file:///work/b.py', 3, false],
    ['file:///work/%61.py', 3, true], // the same file, percent-encoded
  ];
  for (const [uri, version, want] of cases) {
    assert.equal(ne.isCurrent(s, uri, version), want, `${uri}@${version}`);
  }
});

test('parseSuggestion: null and malformed results are no suggestion', () => {
  const good = suggestion([EDIT]);
  const cases = [
    [null, undefined],
    [undefined, undefined],
    ['text', undefined],
    [{ ...good, edits: [] }, undefined],
    [{ ...good, edits: [{ range: range(1, 0, 1, 0) }] }, undefined],
    [{ ...good, textDocument: { uri: URI } }, undefined],
    [{ ...good, id: 7 }, undefined],
    [{ ...good, jumpTo: { line: 1 } }, undefined],
    [{ ...good, text: undefined }, undefined],
    [good, good],
  ];
  for (const [value, want] of cases) {
    assert.deepEqual(ne.parseSuggestion(value), want, JSON.stringify(value));
  }
});

test('transition: shown, Tab jumps, Tab accepts', () => {
  const s = suggestion([EDIT], 3);
  const shown = ne.transition(undefined, { type: 'answer', suggestion: s, document: doc(3, 0) });
  assert.deepEqual(shown, { shown: s, effect: 'show', outcome: undefined });
  const jumped = ne.transition(s, { type: 'tab', document: doc(3, 0) });
  assert.deepEqual(jumped, { shown: s, effect: 'jump' });
  const accepted = ne.transition(s, { type: 'tab', document: doc(3, 4) });
  assert.deepEqual(accepted, { shown: undefined, effect: 'apply', outcome: { id: 's1', outcome: 'accepted' } });
});

test('transition: Esc dismisses as rejected; leaving or a change drops it as ignored', () => {
  const s = suggestion([EDIT], 3);
  const cases = [
    [{ type: 'escape' }, 'rejected'],
    [{ type: 'left' }, 'ignored'],
    [{ type: 'changed', document: doc(4) }, 'ignored'],
  ];
  for (const [event, outcome] of cases) {
    assert.deepEqual(ne.transition(s, event), { shown: undefined, effect: 'hide', outcome: { id: 's1', outcome } },
      event.type);
    // With nothing shown, the same events do nothing.
    assert.deepEqual(ne.transition(undefined, event), { shown: undefined, effect: 'none' }, `${event.type} idle`);
  }
  // A change event that leaves the version where it was (e.g. only a save) keeps it.
  assert.deepEqual(ne.transition(s, { type: 'changed', document: doc(3) }), { shown: s, effect: 'none' });
});

test('transition: applied by the quick fix (the same edits) hides it without an outcome of its own', () => {
  const s = suggestion([EDIT, { range: range(5, 0, 5, 1), newText: 'y' }], 3);
  const changes = [{ range: range(5, 0, 5, 1), newText: 'y' }, EDIT];
  assert.deepEqual(ne.transition(s, { type: 'changed', document: doc(4), changes }), { shown: undefined, effect: 'hide' });
  // Any other change is the user's: ignored.
  assert.deepEqual(ne.transition(s, { type: 'changed', document: doc(4), changes: [EDIT] }),
    { shown: undefined, effect: 'hide', outcome: { id: 's1', outcome: 'ignored' } });
  assert.equal(ne.sameEdits([EDIT], [{ ...EDIT, newText: 'z' }]), false);
});

test('transition: a suggestion for an older version is never shown nor applied', () => {
  const s = suggestion([EDIT], 3);
  // The answer arrives after the user typed on (version 4): not shown, reported as ignored.
  assert.deepEqual(ne.transition(undefined, { type: 'answer', suggestion: s, document: doc(4) }),
    { shown: undefined, effect: 'none', outcome: { id: 's1', outcome: 'ignored' } });
  // Shown for 3, the document is at 4 when Tab comes (its change event not handled yet): dropped, not applied.
  for (const line of [0, 4]) {
    assert.deepEqual(ne.transition(s, { type: 'tab', document: doc(4, line) }),
      { shown: undefined, effect: 'hide', outcome: { id: 's1', outcome: 'ignored' } }, `cursor on line ${line}`);
  }
  // Or in another file.
  assert.equal(ne.transition(s, { type: 'tab', document: doc(3, 4, 'file:///work/b.py') }).effect, 'hide');
});

test('transition: no answer keeps what is shown; a newer answer replaces it', () => {
  const old = suggestion([EDIT], 3, 'old');
  assert.deepEqual(ne.transition(old, { type: 'answer', suggestion: undefined, document: doc(3) }),
    { shown: old, effect: 'none' });
  const fresh = suggestion([EDIT], 3, 'new');
  assert.deepEqual(ne.transition(old, { type: 'answer', suggestion: fresh, document: doc(3) }),
    { shown: fresh, effect: 'show', outcome: { id: 'old', outcome: 'ignored' } });
  assert.deepEqual(ne.transition(undefined, { type: 'tab', document: doc(3) }), { shown: undefined, effect: 'none' });
});

test('planDiff: replacements strike and insert, pure insertions and deletions one mark each', () => {
  const cases = [
    [[{ range: range(4, 2, 4, 5), newText: 'abc' }],
      [{ kind: 'delete', range: range(4, 2, 4, 5) }, { kind: 'insert', at: pos(4, 5), text: 'abc' }], false],
    [[{ range: range(4, 2, 4, 2), newText: 'abc' }], [{ kind: 'insert', at: pos(4, 2), text: 'abc' }], false],
    [[{ range: range(4, 2, 5, 0), newText: '' }], [{ kind: 'delete', range: range(4, 2, 5, 0) }], false],
    [[{ range: range(4, 0, 4, 0), newText: 'a\nb\n' }], [{ kind: 'insert', at: pos(4, 0), text: 'a\nb\n' }], true],
  ];
  for (const [edits, marks, multiLine] of cases) {
    assert.deepEqual(ne.planDiff(suggestion(edits)), { marks, multiLine }, JSON.stringify(edits));
  }
});

test('inlineText: line breaks become a visible symbol', () => {
  assert.equal(ne.inlineText('a\nb'), 'a ⏎ b');
  assert.equal(ne.inlineText('a\r\nb'), 'a ⏎ b');
  assert.equal(ne.inlineText('ab'), 'ab');
});

test('tabAction: jump from another line, accept on the suggestion line', () => {
  const s = suggestion([EDIT]);
  assert.equal(ne.tabAction(s, pos(1, 0)), 'jump');
  assert.equal(ne.tabAction(s, pos(4, 9)), 'accept');
});

test('cursorTrigger: only a move to another line', () => {
  const cases = [[undefined, 3, false], [3, 3, false], [3, 4, true]];
  for (const [previous, line, want] of cases) {
    assert.equal(ne.cursorTrigger(previous, line), want, `${previous}->${line}`);
  }
});

test('diffMarkdown: unchanged lines as context, old lines minus, new lines plus', () => {
  const cases = [
    ['a\nb\nc\n', 'a\nB\nc\n', ['  a', '- b', '+ B', '  c']],
    ['a\nb', 'a\nc', ['  a', '- b', '+ c']],
    ['a\n', 'a\nb\n', ['  a', '+ b']],
    ['x\ny\n', 'y\n', ['- x', '  y']],
  ];
  for (const [before, after, lines] of cases) {
    const md = ne.diffMarkdown(before, after);
    assert.ok(md.includes(['```diff', ...lines, '```'].join('\n')), `${JSON.stringify(before)}: ${md}`);
  }
});
