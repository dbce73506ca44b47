-- Inline-diff proposals: keep their Accept / Reject code lenses visible and usable.
--
-- With `codeActions.preview = 'inlineDiff'` the server writes the proposal into the buffer between
-- markers and offers Accept / Reject as code lenses. Neovim shows lenses only after someone asks
-- for them, so this module refreshes them whenever the text changes, and offers `:Ghostwriter
-- accept` / `reject` for the proposal under (or nearest after) the cursor.
local util = require('ghostwriter.util')

local M = {}

M.ACCEPT = 'ghostwriter.acceptDiff'
M.REJECT = 'ghostwriter.rejectDiff'
M.MARKER = '^<<<<<<< ghostwriter '

local group = vim.api.nvim_create_augroup('ghostwriter.lenses', { clear = true })

function M.refresh(bufnr)
  if vim.lsp.codelens and vim.api.nvim_buf_is_valid(bufnr) then
    pcall(vim.lsp.codelens.refresh, { bufnr = bufnr })
  end
end

--- Does the buffer still hold a proposal's markers?
function M.pending(bufnr)
  for _, line in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)) do
    if line:find(M.MARKER) then
      return true
    end
  end
  return false
end

---@param client vim.lsp.Client
---@param bufnr integer
function M.attach(client, bufnr)
  if not util.supports(client, 'textDocument/codeLens') then
    return
  end
  vim.api.nvim_clear_autocmds({ group = group, buffer = bufnr })
  vim.api.nvim_create_autocmd({ 'BufEnter', 'InsertLeave', 'TextChanged' }, {
    group = group,
    buffer = bufnr,
    callback = function()
      M.refresh(bufnr)
    end,
  })
  vim.api.nvim_create_autocmd('BufWritePre', {
    group = group,
    buffer = bufnr,
    callback = function()
      -- A server that answers willSaveWaitUntil rejects pending proposals before the save (and
      -- says so); only without it would the markers reach the disk.
      local sync = client.server_capabilities and client.server_capabilities.textDocumentSync
      local rejects_on_save = type(sync) == 'table' and sync.willSaveWaitUntil
      if M.pending(bufnr) and not rejects_on_save then
        util.notify_user('this file still holds a Ghostwriter proposal between <<<<<<< / >>>>>>> markers; '
          .. ':Ghostwriter accept or :Ghostwriter reject it, or the markers are saved too', vim.log.levels.WARN)
      end
    end,
  })
  M.refresh(bufnr)
end

--- The Accept (or Reject) lens of the proposal at or after the cursor line, else the first one.
---@return lsp.CodeLens?
function M.find(bufnr, command, line)
  local best
  for _, lens in ipairs(vim.lsp.codelens.get(bufnr)) do
    if lens.command and lens.command.command == command then
      local at = lens.range.start.line
      if best == nil or (at <= line and at > best.range.start.line) or (best.range.start.line > line and at < best.range.start.line) then
        best = lens
      end
    end
  end
  return best
end

--- Run Accept or Reject for the proposal near the cursor.
---@param accept boolean
---@param callback? fun(result: any, err: any)
function M.decide(accept, callback)
  local bufnr = vim.api.nvim_get_current_buf()
  local lens = M.find(bufnr, accept and M.ACCEPT or M.REJECT, vim.api.nvim_win_get_cursor(0)[1] - 1)
  if not lens then
    local err = { message = 'no Ghostwriter proposal in this buffer' }
    if callback then
      return callback(nil, err)
    end
    return util.notify_user(err.message)
  end
  require('ghostwriter.commands').execute(lens.command.command, lens.command.arguments, function(err, result)
    M.refresh(bufnr)
    if callback then
      return callback(result, err)
    end
    if err then
      util.notify_user(err.message or vim.inspect(err), vim.log.levels.ERROR)
    end
  end, bufnr)
end

return M
