-- Inline completion: what both engines share (text planning, partial accept, telemetry, keymaps).
local config = require('ghostwriter.config')
local util = require('ghostwriter.util')

local M = {}

M.METHOD = 'textDocument/inlineCompletion'
M.DID_SHOW = 'ghostwriter/didShowCompletion'
M.DID_ACCEPT = 'ghostwriter/didAcceptCompletion'

-- ---------------------------------------------------------------------------------------------
-- Items

--- Plain text of a snippet: placeholders keep their default text, tabstops vanish.
---@param snippet string
---@return string
function M.snippet_text(snippet)
  local out = snippet
  -- ${1:default} (no nesting support beyond one level of text)
  for _ = 1, 8 do
    local replaced
    out, replaced = out:gsub('%${%d+:([^{}]*)}', '%1')
    if replaced == 0 then
      break
    end
  end
  out = out:gsub('%${%d+|([^,|}]*)[^}]*|}', '%1') -- ${1|a,b|} → a
  out = out:gsub('%${%d+}', ''):gsub('%$%d+', '')
  out = out:gsub('\\([%$}\\])', '%1')
  return out
end

--- The text an item inserts.
---@param item table lsp.InlineCompletionItem
---@return string
function M.item_text(item)
  local text = item.insertText
  if type(text) == 'table' then
    return M.snippet_text(text.value or '')
  end
  return text or ''
end

--- The command Ghostwriter puts on each item: `[uri, itemId, length]`. Clients that run item
--- commands report acceptance through it; we send ghostwriter/didAcceptCompletion instead, with
--- the length actually accepted, so running it as well would count the accept twice.
M.ACCEPTED_COMMAND = 'ghostwriter.completionAccepted'

--- The server's id for an item, used by the didShow/didAccept notifications.
---@param item table
---@return string|nil
function M.item_id(item)
  if item.itemId ~= nil then
    return item.itemId
  end
  local command = item.command
  if type(command) == 'table' and type(command.arguments) == 'table' then
    if command.command == M.ACCEPTED_COMMAND and command.arguments[2] ~= nil then
      return command.arguments[2]
    end
    for _, arg in ipairs(command.arguments) do
      if type(arg) == 'table' and arg.itemId ~= nil then
        return arg.itemId
      end
    end
  end
  if type(item.data) == 'table' and item.data.itemId ~= nil then
    return item.data.itemId
  end
  return nil
end

--- After a whole accept: run the item's command, unless it only reports the accept we already sent.
---@param client vim.lsp.Client
---@param bufnr integer
---@param item table
function M.run_command(client, bufnr, item)
  local command = item.command
  if type(command) ~= 'table' or not command.command then
    return
  end
  if command.command == M.ACCEPTED_COMMAND and client.name == util.name and M.item_id(item) ~= nil then
    return
  end
  if util.has_011 then
    client:exec_cmd(command, { bufnr = bufnr })
  else
    client._exec_cmd(command, { bufnr = bufnr })
  end
end

-- ---------------------------------------------------------------------------------------------
-- Planning and applying

---@class ghostwriter.Plan
---@field text string        full text of the item
---@field srow integer       replaced range (0-based rows, byte columns)
---@field scol integer
---@field erow integer
---@field ecol integer
---@field row integer        cursor (0-based row, byte column)
---@field col integer
---@field ghost string|nil   the part after the cursor, when the item extends what is typed

--- Where an item goes relative to the cursor.
---@param bufnr integer
---@param item table lsp.InlineCompletionItem
---@param encoding string
---@param cursor { [1]: integer, [2]: integer } (1-based row, byte column) as from nvim_win_get_cursor
---@return ghostwriter.Plan
function M.plan(bufnr, item, encoding, cursor)
  local row, col = cursor[1] - 1, cursor[2]
  local text = M.item_text(item)
  local srow, scol, erow, ecol = row, col, row, col
  if type(item.range) == 'table' then
    srow = item.range.start.line
    scol = util.byte_col(bufnr, item.range.start, encoding)
    erow = item.range['end'].line
    ecol = util.byte_col(bufnr, item.range['end'], encoding)
  end
  local ghost
  if srow == row and scol <= col then
    local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
    local typed = line:sub(scol + 1, col)
    if vim.startswith(text, typed) then
      ghost = text:sub(#typed + 1)
    end
  end
  return { text = text, srow = srow, scol = scol, erow = erow, ecol = ecol, row = row, col = col, ghost = ghost }
end

--- The first word of `text`: leading whitespace plus a run of word characters, or of punctuation.
---@param text string
---@return string
function M.first_word(text)
  return text:match('^%s*[%w_]+') or text:match('^%s*[^%w_%s]+') or text:match('^%s+') or text
end

--- The rest of the current line; when the text starts with a line break, that and the next line.
---@param text string
---@return string
function M.first_line(text)
  local head = text:match('^[^\n]+')
  if head then
    return head
  end
  return text:match('^\n[^\n]*') or text
end

--- What an accept of `kind` inserts, and whether that is the whole item.
---@param plan ghostwriter.Plan
---@param kind 'all'|'word'|'line'
---@return string part, boolean whole
function M.slice(plan, kind)
  if kind == 'all' or plan.ghost == nil then
    return plan.ghost or plan.text, true
  end
  local part = kind == 'word' and M.first_word(plan.ghost) or M.first_line(plan.ghost)
  return part, #part >= #plan.ghost
end

--- Apply (part of) a planned item to the buffer and move the cursor after it.
---@param bufnr integer
---@param plan ghostwriter.Plan
---@param kind 'all'|'word'|'line'
---@return string accepted text that was accepted, boolean whole
function M.apply(bufnr, plan, kind)
  local part, whole = M.slice(plan, kind)
  local srow, scol, erow, ecol, new_text
  if whole then
    srow, scol, erow, ecol, new_text = plan.srow, plan.scol, plan.erow, plan.ecol, plan.text
  else
    srow, scol, erow, ecol, new_text = plan.row, plan.col, plan.row, plan.col, part
  end
  local lines = vim.split(new_text, '\n', { plain = true })
  vim.api.nvim_buf_set_text(bufnr, srow, scol, erow, ecol, lines)
  local end_row = srow + #lines - 1
  local end_col = (#lines == 1 and scol or 0) + #lines[#lines]
  local win = vim.fn.bufwinid(bufnr)
  if win ~= -1 then
    vim.api.nvim_win_set_cursor(win, { end_row + 1, end_col })
  end
  return part, whole
end

-- ---------------------------------------------------------------------------------------------
-- Telemetry: ghostwriter/didShowCompletion and ghostwriter/didAcceptCompletion

---@type table<integer, table<string, boolean>>
local shown = {}

--- Tell the server an item was displayed (once per item).
---@param client vim.lsp.Client
---@param bufnr integer
---@param item table
function M.did_show(client, bufnr, item)
  local id = M.item_id(item)
  if id == nil or client.name ~= util.name then
    return
  end
  local seen = shown[bufnr] or {}
  if seen[id] then
    return
  end
  if vim.tbl_count(seen) > 256 then
    seen = {}
  end
  seen[id] = true
  shown[bufnr] = seen
  util.notify(client, M.DID_SHOW, { uri = vim.uri_from_bufnr(bufnr), itemId = id })
end

--- Tell the server (part of) an item was accepted; `acceptedLength` counts the characters this
--- accept inserted (each partial accept reports its own part).
---@param client vim.lsp.Client
---@param bufnr integer
---@param item table
---@param text string the text inserted by this accept
function M.did_accept(client, bufnr, item, text)
  local id = M.item_id(item)
  if id == nil or client.name ~= util.name then
    return
  end
  util.notify(client, M.DID_ACCEPT, {
    uri = vim.uri_from_bufnr(bufnr),
    itemId = id,
    acceptedLength = vim.fn.strchars(text),
  })
end

function M.forget(bufnr)
  shown[bufnr] = nil
end

-- ---------------------------------------------------------------------------------------------
-- Engines

local engine_name ---@type 'native'|'virtual'|nil

---@return 'native'|'virtual'
function M.engine_name()
  if engine_name then
    return engine_name
  end
  local want = config.options.inline.engine
  local native_ok = vim.lsp.inline_completion ~= nil and vim.lsp.inline_completion.get ~= nil
  if want == 'native' and not native_ok then
    util.notify_user("inline.engine = 'native' needs Neovim 0.12; using virtual text", vim.log.levels.WARN)
  end
  engine_name = (want ~= 'virtual' and native_ok) and 'native' or 'virtual'
  return engine_name
end

local function engine()
  return require('ghostwriter.inline_' .. M.engine_name())
end

--- Called by setup() so a changed option picks the engine again.
function M.reset_engine()
  engine_name = nil
end

---@param kind? 'all'|'word'|'line'
---@return boolean accepted whether a suggestion was there to accept
function M.accept(kind, bufnr)
  return engine().accept(bufnr or vim.api.nvim_get_current_buf(), kind or 'all')
end

function M.accept_word(bufnr)
  return M.accept('word', bufnr)
end

function M.accept_line(bufnr)
  return M.accept('line', bufnr)
end

---@param count? integer
function M.next(count, bufnr)
  return engine().cycle(bufnr or vim.api.nvim_get_current_buf(), count or 1)
end

function M.prev(count, bufnr)
  return engine().cycle(bufnr or vim.api.nvim_get_current_buf(), -(count or 1))
end

function M.dismiss(bufnr)
  return engine().dismiss(bufnr or vim.api.nvim_get_current_buf())
end

function M.trigger(bufnr)
  return engine().trigger(bufnr or vim.api.nvim_get_current_buf())
end

function M.is_visible(bufnr)
  return engine().is_visible(bufnr or vim.api.nvim_get_current_buf())
end

--- The suggestion currently shown: { text = ghost text, itemId = ... } or nil.
function M.current(bufnr)
  return engine().current(bufnr or vim.api.nvim_get_current_buf())
end

-- Buffer-local insert-mode keymaps; each falls back to its own key when nothing is shown.
local ACTIONS = {
  accept = { fn = function() return M.accept('all') end, desc = 'Accept suggestion' },
  accept_word = { fn = function() return M.accept('word') end, desc = 'Accept next word of suggestion' },
  accept_line = { fn = function() return M.accept('line') end, desc = 'Accept next line of suggestion' },
  next = { fn = function() return M.next(1) end, desc = 'Next suggestion' },
  prev = { fn = function() return M.prev(1) end, desc = 'Previous suggestion' },
  dismiss = { fn = function() return M.dismiss() end, desc = 'Dismiss suggestion' },
  trigger = { fn = function() return M.trigger() end, desc = 'Request a suggestion' },
}

---@param bufnr integer
function M.set_keymaps(bufnr)
  for name, lhs in pairs(config.options.keymaps) do
    local action = ACTIONS[name]
    if action and type(lhs) == 'string' and lhs ~= '' then
      vim.keymap.set('i', lhs, function()
        if action.fn() then
          return ''
        end
        return lhs
      end, { buffer = bufnr, expr = true, replace_keycodes = true, desc = 'Ghostwriter: ' .. action.desc })
    end
  end
end

---@param bufnr integer
function M.del_keymaps(bufnr)
  for name, lhs in pairs(config.options.keymaps) do
    if ACTIONS[name] and type(lhs) == 'string' and lhs ~= '' then
      pcall(vim.keymap.del, 'i', lhs, { buffer = bufnr })
    end
  end
end

-- Without 'termguicolors' only cterm attributes show, and Neovim's ComplHint → NonText chain has a GUI
-- colour only: the suggestion would look exactly like typed code. Dark grey (colour 8) reads as a
-- suggestion on 16- and 256-colour terminals alike.
M.CTERM_FG = 8

--- Give the suggestion groups a terminal colour where the colour scheme gives none.
function M.define_highlights()
  local base = vim.fn.hlexists('ComplHint') == 1 and 'ComplHint' or 'Comment'
  local resolved = vim.api.nvim_get_hl(0, { name = base, link = false })
  vim.api.nvim_set_hl(0, config.options.inline.hl_group, {
    default = true,
    fg = resolved.fg,
    ctermfg = resolved.ctermfg or M.CTERM_FG,
    italic = resolved.italic,
    cterm = { italic = true },
  })
  -- The built-in engine draws with ComplHint itself.
  if base == 'ComplHint' and resolved.ctermfg == nil then
    vim.api.nvim_set_hl(0, 'ComplHint', vim.tbl_extend('force', resolved, { ctermfg = M.CTERM_FG }))
  end
end

local hl_group = vim.api.nvim_create_augroup('ghostwriter.highlights', { clear = true })
vim.api.nvim_create_autocmd('ColorScheme', { group = hl_group, callback = M.define_highlights })

---@param client vim.lsp.Client
---@param bufnr integer
function M.attach(client, bufnr)
  if not config.options.inline.enabled then
    return
  end
  M.define_highlights()
  engine().attach(client, bufnr)
  M.set_keymaps(bufnr)
end

---@param bufnr integer
function M.detach(bufnr)
  if engine_name then
    engine().detach(bufnr)
  end
  M.del_keymaps(bufnr)
  M.forget(bufnr)
end

return M
