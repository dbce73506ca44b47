-- Inline completion through Neovim 0.12's vim.lsp.inline_completion.
--
-- Neovim requests, renders and cycles the suggestions. We add partial accepts (word/line) through
-- `get({ on_accept })`, and the ghostwriter/didShow|didAcceptCompletion notifications, for which
-- we watch the client's inlineCompletion responses (Neovim keeps them private).
local inline = require('ghostwriter.inline')
local util = require('ghostwriter.util')

local M = {}

local ns = vim.api.nvim_create_namespace('nvim.lsp.inline_completion')

---@class ghostwriter.NativeState
---@field client_id integer
---@field items table[]   raw lsp.InlineCompletionItem list of the last response
---@field index integer   which of them is shown

---@type table<integer, ghostwriter.NativeState>
local states = {}

local function on_result(bufnr, client_id, result)
  local items = result.items or result
  if type(items) ~= 'table' then
    return
  end
  states[bufnr] = { client_id = client_id, items = items, index = 1 }
  local client = vim.lsp.get_client_by_id(client_id)
  if client and items[1] and M.is_visible(bufnr) then
    inline.did_show(client, bufnr, items[1])
  end
end

--- Observe this client's inlineCompletion responses without changing them.
---@param client vim.lsp.Client
local function watch(client)
  if rawget(client, '_ghostwriter_watched') then
    return
  end
  local request = client.request
  client.request = function(self, method, params, handler, bufnr)
    if method == inline.METHOD and type(handler) == 'function' then
      local inner = handler
      handler = function(err, result, ctx, ...)
        local ret = inner(err, result, ctx, ...)
        if not err and result then
          local ok, msg = pcall(on_result, ctx.bufnr or vim.api.nvim_get_current_buf(), ctx.client_id, result)
          if not ok then
            require('vim.lsp.log').error('ghostwriter', msg)
          end
        end
        return ret
      end
    end
    return request(self, method, params, handler, bufnr)
  end
  rawset(client, '_ghostwriter_watched', true)
end

function M.attach(client, bufnr)
  watch(client)
  vim.lsp.inline_completion.enable(true, { bufnr = bufnr })
end

function M.detach(bufnr)
  states[bufnr] = nil
  if vim.api.nvim_buf_is_valid(bufnr) then
    pcall(vim.lsp.inline_completion.enable, false, { bufnr = bufnr })
  end
end

function M.is_visible(bufnr)
  return vim.api.nvim_buf_is_valid(bufnr)
    and #vim.api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, { limit = 1 }) > 0
end

--- Our raw item for Neovim's accepted item (same text; else the one we believe is shown).
local function raw_item(bufnr, item)
  local state = states[bufnr]
  if not state or state.client_id ~= item.client_id then
    return nil
  end
  for _, raw in ipairs(state.items) do
    if raw.insertText == item.insert_text then
      return raw
    end
  end
  return state.items[state.index]
end

function M.accept(bufnr, kind)
  return vim.lsp.inline_completion.get({
    bufnr = bufnr,
    on_accept = function(item)
      local client = vim.lsp.get_client_by_id(item.client_id)
      if not client then
        return
      end
      local raw = raw_item(bufnr, item)
      if not raw then
        -- Not one of ours (another server's suggestion): a plain whole accept.
        raw = { insertText = item.insert_text }
        if item.range then
          local ok, range = pcall(item.range.to_lsp, item.range, client.offset_encoding)
          raw.range = ok and range or nil
        end
      end
      local win = vim.fn.bufwinid(bufnr)
      local plan = inline.plan(bufnr, raw, client.offset_encoding, vim.api.nvim_win_get_cursor(win))
      local text, whole = inline.apply(bufnr, plan, kind)
      inline.did_accept(client, bufnr, raw, text)
      if whole then
        inline.run_command(client, bufnr, { command = item.command, itemId = inline.item_id(raw) })
      end
    end,
  })
end

function M.cycle(bufnr, count)
  local state = states[bufnr]
  if not M.is_visible(bufnr) or not state or #state.items == 0 then
    return false
  end
  vim.schedule(function()
    vim.lsp.inline_completion.select({ bufnr = bufnr, count = count })
    local n = #state.items
    state.index = (state.index - 1 + count) % n + 1
    local client = vim.lsp.get_client_by_id(state.client_id)
    if client then
      inline.did_show(client, bufnr, state.items[state.index])
    end
  end)
  return true
end

function M.dismiss(bufnr)
  if not M.is_visible(bufnr) then
    return false
  end
  -- Taking the item with a no-op accept handler hides it and cancels pending requests.
  vim.lsp.inline_completion.get({ bufnr = bufnr, on_accept = function() end })
  states[bufnr] = nil
  return true
end

function M.trigger(_)
  -- Neovim requests on its own while in insert mode; there is no public way to force one.
  return false
end

function M.current(bufnr)
  if not M.is_visible(bufnr) then
    return nil
  end
  local mark = vim.api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, { details = true, limit = 1 })[1]
  local details = mark and mark[4] or {}
  local lines = {}
  local first = {}
  for _, chunk in ipairs(details.virt_text or {}) do
    if chunk[2] ~= 'ComplHintMore' then -- the " (i/n)" counter
      first[#first + 1] = chunk[1]
    end
  end
  lines[1] = table.concat(first)
  for _, virt_line in ipairs(details.virt_lines or {}) do
    local parts = {}
    for _, chunk in ipairs(virt_line) do
      parts[#parts + 1] = chunk[1]
    end
    lines[#lines + 1] = table.concat(parts)
  end
  local state = states[bufnr]
  local item = state and state.items[state.index]
  return { text = table.concat(lines, '\n'), itemId = item and inline.item_id(item) or nil }
end

return M
