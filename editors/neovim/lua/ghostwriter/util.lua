-- Small compatibility layer over the Neovim LSP client API (0.10, 0.11, 0.12).
local M = {}

M.name = 'ghostwriter'

local has_011 = vim.fn.has('nvim-0.11') == 1

M.has_011 = has_011
M.has_012 = vim.fn.has('nvim-0.12') == 1

---@param filter? { bufnr?: integer, id?: integer }
---@return vim.lsp.Client[]
function M.clients(filter)
  local opts = vim.tbl_extend('force', { name = M.name }, filter or {})
  local get = vim.lsp.get_clients or vim.lsp.get_active_clients
  return get(opts)
end

--- The Ghostwriter client attached to `bufnr` (default: current buffer), or any running one.
---@param bufnr? integer
---@return vim.lsp.Client?
function M.client(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  return M.clients({ bufnr = bufnr })[1] or M.clients()[1]
end

--- Send a request; returns the request id (or nil when the client refused it).
function M.request(client, method, params, handler, bufnr)
  local ok, id
  if has_011 then
    ok, id = client:request(method, params, handler, bufnr)
  else
    ok, id = client.request(method, params, handler, bufnr)
  end
  return ok and id or nil
end

function M.notify(client, method, params)
  if has_011 then
    return client:notify(method, params)
  end
  return client.notify(method, params)
end

function M.cancel(client, request_id)
  if has_011 then
    return client:cancel_request(request_id)
  end
  return client.cancel_request(request_id)
end

function M.supports(client, method)
  if has_011 then
    return client:supports_method(method)
  end
  return client.supports_method(method)
end

function M.stop(client, force)
  if has_011 then
    return client:stop(force)
  end
  return client.stop(force)
end

function M.is_stopped(client)
  if has_011 then
    return client:is_stopped()
  end
  return client.is_stopped()
end

--- LSP position → 0-based byte column in `bufnr`, clamped to the line.
---@param bufnr integer
---@param pos { line: integer, character: integer }
---@param encoding string 'utf-8' | 'utf-16' | 'utf-32'
---@return integer
function M.byte_col(bufnr, pos, encoding)
  local line = vim.api.nvim_buf_get_lines(bufnr, pos.line, pos.line + 1, false)[1] or ''
  if encoding == 'utf-8' then
    return math.min(pos.character, #line)
  end
  local ok, col
  if has_011 then
    ok, col = pcall(vim.str_byteindex, line, encoding, pos.character, false)
  else
    ok, col = pcall(vim.str_byteindex, line, pos.character, encoding == 'utf-16')
  end
  return ok and math.min(col, #line) or #line
end

--- Number of UTF-16 code units in `text` (LSP's default unit for lengths).
---@param text string
---@return integer
function M.utf16_len(text)
  if text == '' then
    return 0
  end
  if has_011 then
    return vim.str_utfindex(text, 'utf-16')
  end
  local _, utf16 = vim.str_utfindex(text)
  return utf16
end

--- Empty Lua tables encode as JSON arrays; settings must stay objects.
---@param value table?
---@return table
function M.as_object(value)
  if value == nil or (type(value) == 'table' and next(value) == nil) then
    return vim.empty_dict()
  end
  return value
end

---@param msg string
---@param level? integer
function M.notify_user(msg, level)
  vim.notify('[ghostwriter] ' .. msg, level or vim.log.levels.INFO)
end

return M
