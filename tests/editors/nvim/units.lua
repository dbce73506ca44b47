-- Pure helpers of the Neovim plugin, evaluated in a headless Neovim without a server:
--   nvim --headless --clean --cmd 'set rtp^=editors/neovim' -l units.lua OUT.json
-- Writes { name = value } for tests/editors/test_neovim.py to compare.
local statusline = require('ghostwriter.statusline')
local inline = require('ghostwriter.inline')
local commands = require('ghostwriter.commands')
local next_edit = require('ghostwriter.next_edit')

local session = { promptTokens = 1000, cachedPromptTokens = 400, completionTokens = 234, cacheHits = 3, cost = 0.0012, currency = 'USD' }
local out = {
  human = vim.tbl_map(statusline.human, { 0, 950, 1000, 1234, 999999, 2500000, 3e9 }),
  money = {
    statusline.money(0),
    statusline.money(0.00123),
    statusline.money(0.5),
    statusline.money(12.3),
    statusline.money(0.02, 'EUR'),
    statusline.money(1.5, 'CHF'),
  },
  ready = statusline.format({ session = session, state = 'ready', message = '' }),
  one_hit = statusline.format({ session = vim.tbl_extend('force', session, { cacheHits = 1 }), state = 'ready' }),
  estimated = statusline.format({
    session = vim.tbl_extend('force', session, { estimatedRequests = 2, redactedSpans = 3 }),
    state = 'ready',
  }),
  busy = statusline.format({ session = session, state = 'busy', message = '' }),
  paused = statusline.format({
    session = session,
    state = 'paused',
    message = 'Automatic completions paused: daily budget of $1.00 reached',
  }),
  error = statusline.format({ session = session, state = 'error', message = 'backend unreachable' }),
  no_usage = statusline.format(nil),
  -- No server runs here: the component stays empty.
  component = statusline.get(),
  first_word = vim.tbl_map(inline.first_word, { 'result = x', ' = compute(a)', '(alpha, beta)', '\n    return 1', '   ' }),
  first_line = vim.tbl_map(inline.first_line, { 'a + b\nc', '\n    return 1\nx', 'tail' }),
  snippet = inline.snippet_text('print(${1:value})$0 \\$HOME ${2}'),
  item_id = {
    inline.item_id({ command = { command = 'ghostwriter.completionAccepted', arguments = { 'file:///a', 'gw-7', 3 } } }),
    inline.item_id({ itemId = 'direct' }),
    inline.item_id({ insertText = 'x' }) or vim.NIL,
  },
  usage_lines = commands.format_usage({
    session = vim.tbl_extend('force', session, { requests = 4 }),
    today = vim.tbl_extend('force', session, { requests = 9 }),
    last = { feature = 'completion', model = 'm', promptTokens = 300, cachedPromptTokens = 0, completionTokens = 12, durationMs = 85, cost = 0.0004 },
    budget = { unit = 'money', dailyLimit = 1, exceeded = false },
    state = 'ready',
    message = '',
  }),
}
out.cost_text = vim.tbl_map(statusline.cost_text, {
  { requests = 0 },
  { requests = 3, unpricedRequests = 3, cost = 0 },
  { requests = 3, unpricedRequests = 1, cost = 0.0012 },
  { requests = 2, cost = vim.NIL },
})
out.empty_explain = {
  commands.empty_explain_message({ state = 'error', message = 'Cannot reach http://127.0.0.1:9/v1' }),
  commands.empty_explain_message({ state = 'ready' }),
  commands.empty_explain_message(nil),
}
local suggestion = {
  id = 'ne-1',
  textDocument = { uri = 'file:///a.py', version = 5 },
  range = { start = { line = 3, character = 0 }, ['end'] = { line = 5, character = 0 } },
  text = 'def f(count):\n    return count\n',
  edits = { { range = { start = { line = 4, character = 11 }, ['end'] = { line = 4, character = 12 } }, newText = 'count' } },
  jumpTo = { line = 4, character = 11 },
}
out.next_edit = {
  parsed = next_edit.parse(suggestion) ~= nil,
  rejected = {
    next_edit.parse(nil) == nil,
    next_edit.parse(vim.NIL) == nil,
    next_edit.parse('x') == nil,
    next_edit.parse(vim.tbl_extend('force', suggestion, { edits = {} })) == nil,
    next_edit.parse(vim.tbl_extend('force', suggestion, { textDocument = { uri = 'file:///a.py' } })) == nil,
  },
  current = { next_edit.is_current(suggestion, 5), next_edit.is_current(suggestion, 6), next_edit.is_current(suggestion, 4) },
  key = { next_edit.key_action(suggestion, 1), next_edit.key_action(suggestion, 4) },
  holds = {
    next_edit.holds_rewrite(suggestion, { 'def f(count):', '    return count', 'x = 1' }),
    next_edit.holds_rewrite(suggestion, { 'def f(count):', '    return c' }),
    next_edit.holds_rewrite(suggestion, { 'def f(count):' }),
  },
  diff = {
    #next_edit.diff_hunks('a\nb\n', 'a\nb\n'),
    next_edit.diff_hunks('def f(n):\n    return n\n', 'def f(count):\n    return count\n'),
    next_edit.diff_hunks('a\nb\nc\n', 'a\nB\nc\nd'),
    next_edit.diff_hunks('a\nb\nc', 'a\nc'),
    next_edit.diff_hunks('a\nb', 'x\na\nb'),
  },
  virt_lines = next_edit.virt_lines({ { '-', 'x = 1' }, { '+', 'x = 2' } }, 'Del', 'Add'),
}
local f = assert(io.open(assert(arg[1], 'output path'), 'w'))
f:write(vim.json.encode(out))
f:close()
