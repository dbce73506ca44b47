-- Next-edit suggestions: after a pause in an edit, or a move to another line, ask the server for
-- `ghostwriter/nextEdit`; show the proposed rewrite as virtual lines below the region with the text it
-- removes highlighted; one key jumps to it, the same key again applies it. A suggestion is applied
-- only to the buffer version it was computed for, otherwise dropped (outcome "ignored").
local config = require('ghostwriter.config')
local util = require('ghostwriter.util')

local M = {}

M.METHOD = 'ghostwriter/nextEdit'
M.OUTCOME = 'ghostwriter/nextEditOutcome'

local ns = vim.api.nvim_create_namespace('ghostwriter.next_edit')
---@type table<integer, table>
local states = {}
-- Clients whose server answered "method not found": asked no more (until a restart makes a new client).
---@type table<integer, boolean>
local unsupported = {}
local METHOD_NOT_FOUND = -32601

-- Pure helpers (tests/editors/nvim/units.lua) ---------------------------------------------------

local function split_lines(text)
  return vim.split((text:gsub('\n$', '')), '\n', { plain = true })
end

--- Is `result` a usable suggestion? Anything else counts as none.
function M.parse(result)
  if type(result) ~= 'table' or type(result.id) ~= 'string' or type(result.textDocument) ~= 'table' then
    return nil
  end
  if type(result.textDocument.version) ~= 'number' or type(result.edits) ~= 'table' or #result.edits == 0 then
    return nil
  end
  if type(result.jumpTo) ~= 'table' or type(result.range) ~= 'table' or type(result.text) ~= 'string' then
    return nil
  end
  return result
end

--- Only the exact version the suggestion was computed for may receive its edits.
function M.is_current(suggestion, version)
  return suggestion.textDocument.version == version
end

--- Does `lines` (the buffer from the region's first line on) hold the suggestion's rewrite? Then it was
--- applied another way (the server's "Apply next edit" code action, which reports it accepted itself).
function M.holds_rewrite(suggestion, lines)
  local want = split_lines(suggestion.text)
  for i, line in ipairs(want) do
    if lines[i] ~= line then
      return false
    end
  end
  return true
end

--- What the key does: jump from elsewhere, apply once the cursor is on the suggestion's line (0-based).
function M.key_action(suggestion, cursor_line)
  return cursor_line == suggestion.jumpTo.line and 'apply' or 'jump'
end

local text_diff = (vim.text and vim.text.diff) or vim.diff

--- The hunks of a region rewrite, each with where to draw it (0-based line within the region, and
--- whether above it) and its lines { '-', old } / { '+', new }. Unchanged lines are left out: the
--- buffer shows them already.
function M.diff_hunks(old_text, new_text)
  local old, new = split_lines(old_text), split_lines(new_text)
  local indices = text_diff(table.concat(old, '\n') .. '\n', table.concat(new, '\n') .. '\n', { result_type = 'indices' })
  local hunks = {}
  for _, hunk in ipairs(indices) do
    local a_start, a_count, b_start, b_count = hunk[1], hunk[2], hunk[3], hunk[4]
    local lines = {}
    for i = a_start, a_start + a_count - 1 do
      lines[#lines + 1] = { '-', old[i] }
    end
    for i = b_start, b_start + b_count - 1 do
      lines[#lines + 1] = { '+', new[i] }
    end
    -- Below the last replaced line; a pure insertion below the line it follows (above the first line
    -- when it comes before all of them).
    local row, above = a_start + math.max(a_count, 1) - 2, false
    if row < 0 then
      row, above = 0, true
    end
    hunks[#hunks + 1] = { row = row, above = above, lines = lines }
  end
  return hunks
end

--- A hunk's lines as virtual lines: { { text, hl } } chunks per line.
function M.virt_lines(lines, removed_hl, added_hl)
  local out = {}
  for i, entry in ipairs(lines) do
    out[i] = { { entry[1] .. ' ' .. entry[2], entry[1] == '-' and removed_hl or added_hl } }
  end
  return out
end

-- Editor state --------------------------------------------------------------------------------

local function opts()
  return config.options.next_edit
end

local function buf_version(bufnr)
  local versions = vim.lsp.util.buf_versions
  return versions and versions[bufnr] or vim.api.nvim_buf_get_changedtick(bufnr)
end

local function state_for(bufnr)
  states[bufnr] = states[bufnr] or {}
  return states[bufnr]
end

local function stop_timer(state)
  local timer = state.timer
  state.timer = nil
  if timer and not timer:is_closing() then
    timer:stop()
    timer:close()
  end
end

local function cancel_pending(state)
  stop_timer(state)
  local pending = state.request
  state.request = nil
  if pending then
    local client = vim.lsp.get_client_by_id(pending.client_id)
    if client then
      util.cancel(client, pending.id)
    end
  end
end

local function send_outcome(client_id, id, outcome)
  local client = client_id and vim.lsp.get_client_by_id(client_id)
  if client then
    util.notify(client, M.OUTCOME, { id = id, outcome = outcome })
  end
end

local function unmap(bufnr, state)
  for _, lhs in ipairs(state.mapped or {}) do
    pcall(vim.keymap.del, 'n', lhs, { buffer = bufnr })
  end
  state.mapped = nil
end

--- Hide the shown suggestion, if any, and tell the server what became of it (nil: it knows already).
local function hide(bufnr, outcome)
  local state = states[bufnr]
  if not state or not state.shown then
    return
  end
  local shown = state.shown
  state.shown = nil
  if vim.api.nvim_buf_is_valid(bufnr) then
    vim.api.nvim_buf_clear_namespace(bufnr, ns, 0, -1)
    unmap(bufnr, state)
  end
  if outcome then
    send_outcome(shown.client_id, shown.suggestion.id, outcome)
  end
end

local function map_keys(bufnr, state)
  local keys = opts().keymaps
  state.mapped = {}
  if keys.dismiss then
    vim.keymap.set('n', keys.dismiss, function()
      M.dismiss(bufnr)
    end, { buffer = bufnr, desc = 'Ghostwriter: dismiss next edit' })
    table.insert(state.mapped, keys.dismiss)
  end
end

--- The buffer's text in an LSP range (the region the suggestion rewrites).
local function region_text(bufnr, range, enc)
  local last_row = vim.api.nvim_buf_line_count(bufnr) - 1
  local s, e = range.start, range['end']
  local end_row, end_col = e.line, nil
  if end_row > last_row then
    end_row, end_col = last_row, #(vim.api.nvim_buf_get_lines(bufnr, last_row, last_row + 1, false)[1] or '')
  end
  local start_col = util.byte_col(bufnr, s, enc)
  end_col = end_col or util.byte_col(bufnr, { line = end_row, character = e.character }, enc)
  local ok, lines = pcall(vim.api.nvim_buf_get_text, bufnr, math.min(s.line, end_row), start_col, end_row, end_col, {})
  return ok and table.concat(lines, '\n') or ''
end

local function show(bufnr, client, suggestion)
  local state = state_for(bufnr)
  hide(bufnr, 'ignored')
  local enc = client.offset_encoding
  for _, edit in ipairs(suggestion.edits) do
    local s, e = edit.range.start, edit.range['end']
    if s.line ~= e.line or s.character ~= e.character then
      vim.api.nvim_buf_set_extmark(bufnr, ns, s.line, util.byte_col(bufnr, s, enc), {
        end_row = e.line,
        end_col = util.byte_col(bufnr, e, enc),
        hl_group = opts().removed_hl,
        strict = false,
      })
    end
  end
  local region = suggestion.range
  local last_row = vim.api.nvim_buf_line_count(bufnr) - 1
  local hint = ' next edit: ' .. (opts().keymaps.accept or ':GhostwriterNextEdit')
  for i, hunk in ipairs(M.diff_hunks(region_text(bufnr, region, enc), suggestion.text)) do
    vim.api.nvim_buf_set_extmark(bufnr, ns, math.min(region.start.line + hunk.row, last_row), 0, {
      virt_lines = M.virt_lines(hunk.lines, opts().removed_hl, opts().added_hl),
      virt_lines_above = hunk.above,
      virt_text = i == 1 and { { hint, 'Comment' } } or nil,
      virt_text_pos = i == 1 and 'eol' or nil,
      strict = false,
    })
  end
  state.shown = { suggestion = suggestion, client_id = client.id }
  map_keys(bufnr, state)
end

--- Ask for a next edit at the cursor now.
function M.request(bufnr, trigger)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local state = state_for(bufnr)
  local client = util.clients({ bufnr = bufnr })[1]
  if not client or unsupported[client.id] or vim.api.nvim_get_current_buf() ~= bufnr then
    return
  end
  cancel_pending(state)
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  local version = buf_version(bufnr)
  params.textDocument.version = version
  params.trigger = trigger
  local id
  id = util.request(client, M.METHOD, params, function(err, result)
    local latest = state.request ~= nil and state.request.id == id
    if latest then
      state.request = nil
    end
    if err and err.code == METHOD_NOT_FOUND then
      unsupported[client.id] = true
    end
    local suggestion = not err and M.parse(result) or nil
    -- A superseded request (cancelled like completions) may still answer: its answer is not shown.
    if not latest or not suggestion or not vim.api.nvim_buf_is_valid(bufnr) then
      return
    end
    -- Typed on while the server worked: this answer is for an older version; never show it.
    if not M.is_current(suggestion, buf_version(bufnr)) or suggestion.textDocument.version ~= version then
      send_outcome(client.id, suggestion.id, 'ignored')
      return
    end
    show(bufnr, client, suggestion)
  end, bufnr)
  if id then
    state.request = { client_id = client.id, id = id }
  end
end

local function schedule(bufnr, trigger)
  local state = state_for(bufnr)
  cancel_pending(state)
  if not opts().enabled then
    return
  end
  state.timer = vim.defer_fn(function()
    state.timer = nil
    if vim.api.nvim_buf_is_valid(bufnr) and vim.api.nvim_get_current_buf() == bufnr then
      M.request(bufnr, trigger)
    end
  end, opts().debounce_ms)
end

function M.jump(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local shown = states[bufnr] and states[bufnr].shown
  if not shown then
    return false
  end
  local client = vim.lsp.get_client_by_id(shown.client_id)
  local at = shown.suggestion.jumpTo
  local col = util.byte_col(bufnr, at, client and client.offset_encoding or 'utf-16')
  states[bufnr].jumping = true
  vim.api.nvim_win_set_cursor(0, { at.line + 1, col })
  return true
end

--- Apply the shown suggestion, only if the buffer is still at its version. Returns whether it applied.
function M.apply(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local state = states[bufnr]
  local shown = state and state.shown
  if not shown then
    return false
  end
  if not M.is_current(shown.suggestion, buf_version(bufnr)) then
    hide(bufnr, 'ignored')
    return false
  end
  local client = vim.lsp.get_client_by_id(shown.client_id)
  state.shown = nil
  vim.api.nvim_buf_clear_namespace(bufnr, ns, 0, -1)
  unmap(bufnr, state)
  vim.lsp.util.apply_text_edits(shown.suggestion.edits, bufnr, client and client.offset_encoding or 'utf-16')
  send_outcome(shown.client_id, shown.suggestion.id, 'accepted')
  return true
end

--- The key: jump to the suggestion, or apply it when already there. Returns what it did, or nil.
function M.jump_or_apply(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local shown = states[bufnr] and states[bufnr].shown
  if not shown then
    return nil
  end
  local line = vim.api.nvim_win_get_cursor(0)[1] - 1
  if M.key_action(shown.suggestion, line) == 'jump' then
    M.jump(bufnr)
    return 'jump'
  end
  return M.apply(bufnr) and 'apply' or nil
end

function M.dismiss(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  hide(bufnr, 'rejected')
end

--- Is a request in flight or about to be sent (the pause not over yet)?
function M.pending(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local state = states[bufnr]
  return state ~= nil and (state.request ~= nil or state.timer ~= nil)
end

--- The suggestion shown in `bufnr`, or nil (for tests and statuslines).
function M.current(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local shown = states[bufnr] and states[bufnr].shown
  return shown and shown.suggestion
end

function M.attach(_, bufnr)
  local state = state_for(bufnr)
  if state.augroup then
    return
  end
  state.augroup = vim.api.nvim_create_augroup('ghostwriter.next_edit.' .. bufnr, { clear = true })
  vim.api.nvim_create_autocmd({ 'TextChanged', 'TextChangedI' }, {
    group = state.augroup,
    buffer = bufnr,
    callback = function()
      -- Leaving Insert mode fires TextChanged without a new change: only a new version counts.
      local version = buf_version(bufnr)
      if state.version == version then
        return
      end
      state.version = version
      local shown = state.shown
      if shown and not M.is_current(shown.suggestion, version) then
        local first = shown.suggestion.range.start.line
        local lines = vim.api.nvim_buf_get_lines(bufnr, first, first + #split_lines(shown.suggestion.text), false)
        -- The buffer moved on: the shown suggestion's version is stale, unless this change applied it.
        hide(bufnr, M.holds_rewrite(shown.suggestion, lines) and nil or 'ignored')
      end
      schedule(bufnr, 'edit')
    end,
  })
  vim.api.nvim_create_autocmd({ 'CursorMoved' }, {
    group = state.augroup,
    buffer = bufnr,
    callback = function()
      local line = vim.api.nvim_win_get_cursor(0)[1]
      local moved = state.line ~= nil and state.line ~= line
      state.line = line
      if state.jumping then
        state.jumping = nil
      elseif moved and not state.shown then
        schedule(bufnr, 'cursor')
      end
    end,
  })
  state.version = buf_version(bufnr)
  local key = opts().keymaps.accept
  if key then
    vim.keymap.set({ 'n', 'i' }, key, function()
      if not M.jump_or_apply(bufnr) then
        M.request(bufnr, 'manual')
      end
    end, { buffer = bufnr, desc = 'Ghostwriter: jump to / apply the next edit' })
  end
end

function M.detach(bufnr)
  local state = states[bufnr]
  if not state then
    return
  end
  cancel_pending(state)
  hide(bufnr, 'ignored')
  if state.augroup then
    pcall(vim.api.nvim_del_augroup_by_id, state.augroup)
  end
  local key = opts().keymaps.accept
  if key and vim.api.nvim_buf_is_valid(bufnr) then
    pcall(vim.keymap.del, { 'n', 'i' }, key, { buffer = bufnr })
  end
  states[bufnr] = nil
end

function M.setup_highlights()
  vim.api.nvim_set_hl(0, 'GhostwriterNextEditRemoved', { default = true, link = 'DiffDelete' })
  vim.api.nvim_set_hl(0, 'GhostwriterNextEditAdded', { default = true, link = 'DiffAdd' })
end

return M
