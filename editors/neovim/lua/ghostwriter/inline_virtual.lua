-- Inline completion drawn with extmarks, for Neovim without vim.lsp.inline_completion (0.10/0.11),
-- or by choice (inline.engine = 'virtual'). Requests textDocument/inlineCompletion itself.
local config = require('ghostwriter.config')
local inline = require('ghostwriter.inline')
local util = require('ghostwriter.util')

local M = {}

local ns = vim.api.nvim_create_namespace('ghostwriter.inline')

local TRIGGER_INVOKED = 1
local TRIGGER_AUTOMATIC = 2

---@class ghostwriter.VirtualState
---@field augroup integer
---@field timer? uv.uv_timer_t
---@field request? { client_id: integer, id: integer }
---@field client_id? integer
---@field items table[]
---@field index integer
---@field keep? { tick: integer, cursor: integer[] }  buffer state after a partial accept

---@type table<integer, ghostwriter.VirtualState>
local states = {}

local function in_insert_mode()
  return vim.api.nvim_get_mode().mode:sub(1, 1) == 'i'
end

local function stop_timer(state)
  local timer = state.timer
  state.timer = nil
  if timer and not timer:is_closing() then
    timer:stop()
    timer:close()
  end
end

local function cancel_request(state)
  local pending = state.request
  state.request = nil
  if pending then
    local client = vim.lsp.get_client_by_id(pending.client_id)
    if client then
      util.cancel(client, pending.id)
    end
  end
end

local function hide(bufnr)
  if vim.api.nvim_buf_is_valid(bufnr) then
    vim.api.nvim_buf_clear_namespace(bufnr, ns, 0, -1)
  end
end

local function clear(bufnr)
  local state = states[bufnr]
  if state then
    stop_timer(state)
    cancel_request(state)
    state.items, state.index, state.keep = {}, 1, nil
  end
  hide(bufnr)
end

local function current_item(state)
  return state and state.items[state.index]
end

local function plan_for(bufnr, state, item)
  local client = vim.lsp.get_client_by_id(state.client_id)
  if not client then
    return nil
  end
  local win = vim.fn.bufwinid(bufnr)
  if win == -1 then
    return nil
  end
  return inline.plan(bufnr, item, client.offset_encoding, vim.api.nvim_win_get_cursor(win)), client
end

local function show(bufnr)
  hide(bufnr)
  local state = states[bufnr]
  local item = current_item(state)
  if not item then
    return
  end
  local plan, client = plan_for(bufnr, state, item)
  if not plan or not client then
    return
  end
  local text = plan.ghost or plan.text
  if text == '' then
    return
  end
  local hl = config.options.inline.hl_group
  local lines = vim.split(text, '\n', { plain = true })
  local virt_text = { { lines[1], hl } }
  if #state.items > 1 then
    virt_text[#virt_text + 1] = { (' (%d/%d)'):format(state.index, #state.items), 'Comment' }
  end
  local virt_lines = {}
  for i = 2, #lines do
    virt_lines[#virt_lines + 1] = { { lines[i], hl } }
  end
  vim.api.nvim_buf_set_extmark(bufnr, ns, plan.row, plan.col, {
    virt_text = virt_text,
    virt_text_pos = 'inline',
    virt_lines = #virt_lines > 0 and virt_lines or nil,
    hl_mode = 'combine',
    priority = 1000,
  })
  inline.did_show(client, bufnr, item)
end

local function request(bufnr, trigger_kind)
  local state = states[bufnr]
  if not state or not vim.api.nvim_buf_is_valid(bufnr) or vim.api.nvim_get_current_buf() ~= bufnr then
    return
  end
  if not in_insert_mode() then
    return
  end
  local client = util.clients({ bufnr = bufnr })[1]
  if not client then
    return
  end
  cancel_request(state)
  local win = vim.api.nvim_get_current_win()
  local params = vim.lsp.util.make_position_params(win, client.offset_encoding)
  params.context = { triggerKind = trigger_kind }
  -- Optional (Ghostwriter reads it): lets the server skip work for a buffer that moved on.
  params.textDocument.version = vim.lsp.util.buf_versions[bufnr]
  local tick = vim.api.nvim_buf_get_changedtick(bufnr)
  local cursor = vim.api.nvim_win_get_cursor(win)
  local id
  id = util.request(client, inline.METHOD, params, function(err, result)
    if state.request and state.request.id == id then
      state.request = nil
    end
    if err or not result or states[bufnr] ~= state then
      return
    end
    -- Drop answers to a buffer or cursor that has moved on.
    if vim.api.nvim_buf_get_changedtick(bufnr) ~= tick or not in_insert_mode() then
      return
    end
    local now = vim.api.nvim_win_get_cursor(win)
    if now[1] ~= cursor[1] or now[2] ~= cursor[2] then
      return
    end
    local items = result.items or result
    state.client_id = client.id
    state.items = type(items) == 'table' and items or {}
    state.index = 1
    state.keep = nil
    show(bufnr)
  end, bufnr)
  if id then
    state.request = { client_id = client.id, id = id }
  end
end

local function schedule_request(bufnr, trigger_kind, delay)
  local state = states[bufnr]
  if not state then
    return
  end
  stop_timer(state)
  state.timer = vim.defer_fn(function()
    state.timer = nil
    request(bufnr, trigger_kind)
  end, delay)
end

local function on_change(bufnr)
  local state = states[bufnr]
  if not state then
    return
  end
  local keep = state.keep
  if keep then
    local cursor = vim.api.nvim_win_get_cursor(0)
    if vim.api.nvim_buf_get_changedtick(bufnr) == keep.tick and cursor[1] == keep.cursor[1] and cursor[2] == keep.cursor[2] then
      return -- our own partial accept: keep showing the rest
    end
  end
  clear(bufnr)
  schedule_request(bufnr, TRIGGER_AUTOMATIC, config.options.inline.debounce_ms)
end

function M.attach(_, bufnr)
  if states[bufnr] then
    return
  end
  local augroup = vim.api.nvim_create_augroup('ghostwriter.inline.' .. bufnr, { clear = true })
  states[bufnr] = { augroup = augroup, items = {}, index = 1 }
  vim.api.nvim_create_autocmd({ 'InsertEnter', 'CursorMovedI', 'TextChangedI', 'TextChangedP' }, {
    group = augroup,
    buffer = bufnr,
    callback = function()
      on_change(bufnr)
    end,
  })
  vim.api.nvim_create_autocmd({ 'InsertLeave', 'BufLeave' }, {
    group = augroup,
    buffer = bufnr,
    callback = function()
      clear(bufnr)
    end,
  })
  if vim.api.nvim_get_current_buf() == bufnr and in_insert_mode() then
    schedule_request(bufnr, TRIGGER_AUTOMATIC, config.options.inline.debounce_ms)
  end
end

function M.detach(bufnr)
  local state = states[bufnr]
  if not state then
    return
  end
  clear(bufnr)
  pcall(vim.api.nvim_del_augroup_by_id, state.augroup)
  states[bufnr] = nil
end

function M.is_visible(bufnr)
  return current_item(states[bufnr]) ~= nil
    and vim.api.nvim_buf_is_valid(bufnr)
    and #vim.api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, { limit = 1 }) > 0
end

function M.accept(bufnr, kind)
  if not M.is_visible(bufnr) then
    return false
  end
  local state = states[bufnr]
  local item = current_item(state)
  -- Deferred: this may run from an <expr> mapping, where the buffer cannot change.
  vim.schedule(function()
    if states[bufnr] ~= state or current_item(state) ~= item then
      return
    end
    local plan, client = plan_for(bufnr, state, item)
    if not plan or not client then
      return
    end
    local text, whole = inline.apply(bufnr, plan, kind)
    inline.did_accept(client, bufnr, item, text)
    if whole then
      clear(bufnr)
      inline.run_command(client, bufnr, item)
      return
    end
    -- Keep the rest on screen as a cursor-relative item with the same id.
    local rest = {
      insertText = plan.ghost:sub(#text + 1),
      itemId = inline.item_id(item),
      command = item.command,
    }
    state.items, state.index = { rest }, 1
    state.keep = {
      tick = vim.api.nvim_buf_get_changedtick(bufnr),
      cursor = vim.api.nvim_win_get_cursor(vim.fn.bufwinid(bufnr)),
    }
    show(bufnr)
  end)
  return true
end

function M.cycle(bufnr, count)
  local state = states[bufnr]
  if not M.is_visible(bufnr) or #state.items < 2 then
    return M.is_visible(bufnr)
  end
  vim.schedule(function()
    local n = #state.items
    state.index = (state.index - 1 + count) % n + 1
    show(bufnr)
  end)
  return true
end

function M.dismiss(bufnr)
  if not M.is_visible(bufnr) then
    return false
  end
  vim.schedule(function()
    clear(bufnr)
  end)
  return true
end

function M.trigger(bufnr)
  if not states[bufnr] or not in_insert_mode() then
    return false
  end
  vim.schedule(function()
    clear(bufnr)
    request(bufnr, TRIGGER_INVOKED)
  end)
  return true
end

function M.current(bufnr)
  local state = states[bufnr]
  local item = current_item(state)
  if not item or not M.is_visible(bufnr) then
    return nil
  end
  local plan = plan_for(bufnr, state, item)
  return { text = plan and (plan.ghost or plan.text) or inline.item_text(item), itemId = inline.item_id(item) }
end

return M
