-- workspace/executeCommand wrappers and the :Ghostwriter command family.
local statusline = require('ghostwriter.statusline')
local util = require('ghostwriter.util')

local M = {}

M.EXPLAIN = 'ghostwriter.explain'
M.SHOW_USAGE = 'ghostwriter.showUsage'
M.RESET_USAGE = 'ghostwriter.resetUsage'
M.SHOW_LAST_PROMPT = 'ghostwriter.showLastPrompt'

--- Run a server command. `callback(err, result)` is called on the main loop.
---@param command string
---@param arguments? any[]
---@param callback? fun(err: table?, result: any)
---@param bufnr? integer
---@return boolean sent
function M.execute(command, arguments, callback, bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  callback = callback or function() end
  local client = util.client(bufnr)
  if not client then
    callback({ message = 'no Ghostwriter language server is running' }, nil)
    return false
  end
  -- `arguments` is optional in LSP; leave it out rather than send an empty list.
  local params = { command = command }
  if type(arguments) == 'table' and #arguments > 0 then
    params.arguments = arguments
  end
  local id = util.request(client, 'workspace/executeCommand', params, function(err, result)
    callback(err, result)
  end, bufnr)
  if not id then
    callback({ message = 'the Ghostwriter language server refused the request' }, nil)
  end
  return id ~= nil
end

local function report(err)
  util.notify_user(err.message or vim.inspect(err), vim.log.levels.ERROR)
end

-- ---------------------------------------------------------------------------------------------
-- Formatting

local function tokens_line(t)
  if type(t) ~= 'table' then
    return nil
  end
  local parts = {}
  if t.requests then
    parts[#parts + 1] = ('%d requests'):format(t.requests)
  end
  local prompt = ('%s prompt tok'):format(statusline.human(t.promptTokens or 0))
  if (t.cachedPromptTokens or 0) > 0 then
    prompt = prompt .. (' (%s cached)'):format(statusline.human(t.cachedPromptTokens))
  end
  parts[#parts + 1] = prompt
  parts[#parts + 1] = ('%s completion tok'):format(statusline.human(t.completionTokens or 0))
  if t.cacheHits then
    parts[#parts + 1] = ('%d cache hits'):format(t.cacheHits)
  end
  if t.cost ~= nil then
    parts[#parts + 1] = statusline.money(t.cost, t.currency)
  end
  return table.concat(parts, ' · ')
end

local function scalar_pairs(t)
  local keys = vim.tbl_keys(t)
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = t[k]
    if type(v) ~= 'table' and v ~= vim.NIL then
      parts[#parts + 1] = ('%s=%s'):format(k, tostring(v))
    end
  end
  return table.concat(parts, ' ')
end

--- Human-readable lines for a usage summary.
---@param usage table
---@return string[]
function M.format_usage(usage)
  local lines = { 'Ghostwriter usage' }
  local session = tokens_line(usage.session)
  if session then
    lines[#lines + 1] = 'Session: ' .. session
  end
  local today = tokens_line(usage.today)
  if today then
    lines[#lines + 1] = 'Today:   ' .. today
  end
  local last = usage.last
  if type(last) == 'table' and next(last) then
    local parts = { ('%s via %s'):format(last.feature or '?', last.model or '?') }
    parts[#parts + 1] = ('%s+%s tok'):format(
      statusline.human(last.promptTokens or 0),
      statusline.human(last.completionTokens or 0)
    )
    if (last.cachedPromptTokens or 0) > 0 then
      parts[#parts + 1] = ('%s cached'):format(statusline.human(last.cachedPromptTokens))
    end
    if last.durationMs then
      parts[#parts + 1] = ('%d ms'):format(last.durationMs)
    end
    if last.cost ~= nil then
      parts[#parts + 1] = statusline.money(last.cost, last.currency or (usage.session or {}).currency)
    end
    lines[#lines + 1] = 'Last:    ' .. table.concat(parts, ' · ')
  end
  if type(usage.budget) == 'table' and next(usage.budget) then
    lines[#lines + 1] = 'Budget:  ' .. scalar_pairs(usage.budget)
  end
  local state = usage.state or 'ready'
  if type(usage.message) == 'string' and usage.message ~= '' then
    state = state .. ': ' .. usage.message
  end
  lines[#lines + 1] = 'State:   ' .. state
  return lines
end

local function echo_lines(lines)
  local chunks = {}
  for i, line in ipairs(lines) do
    chunks[#chunks + 1] = { line .. (i < #lines and '\n' or ''), i == 1 and 'Title' or 'Normal' }
  end
  vim.api.nvim_echo(chunks, true, {})
end

local function scratch(name, text, filetype)
  local bufnr = vim.fn.bufnr(name)
  if bufnr == -1 or not vim.api.nvim_buf_is_valid(bufnr) then
    bufnr = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(bufnr, name)
  end
  vim.bo[bufnr].buftype = 'nofile'
  vim.bo[bufnr].bufhidden = 'wipe'
  vim.bo[bufnr].swapfile = false
  vim.bo[bufnr].modifiable = true
  vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, vim.split(text, '\n', { plain = true }))
  vim.bo[bufnr].modifiable = false
  vim.bo[bufnr].filetype = filetype
  local win = vim.fn.bufwinid(bufnr)
  if win == -1 then
    vim.cmd('botright split')
    vim.api.nvim_win_set_buf(0, bufnr)
  else
    vim.api.nvim_set_current_win(win)
  end
  return bufnr
end

-- ---------------------------------------------------------------------------------------------
-- Actions. Each takes an optional `callback(result, err)`: given one, it gets the result (or the
-- error) and nothing is displayed; without one, the result is shown and errors are reported.

function M.usage(callback)
  return M.execute(M.SHOW_USAGE, {}, function(err, result)
    if callback then
      statusline.update(result)
      return callback(result, err)
    end
    if err then
      return report(err)
    end
    statusline.update(result)
    if type(result) == 'table' then
      echo_lines(M.format_usage(result))
    end
  end)
end

function M.reset(callback)
  return M.execute(M.RESET_USAGE, {}, function(err, result)
    if callback then
      statusline.update(result)
      return callback(result, err)
    end
    if err then
      return report(err)
    end
    statusline.update(result)
    util.notify_user('usage counters reset')
  end)
end

--- Explain the code at the cursor in a floating window.
function M.explain(callback)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = util.client(bufnr)
  if not client then
    local err = { message = 'no Ghostwriter language server is running' }
    if callback then
      return callback(nil, err)
    end
    return report(err)
  end
  local position = vim.lsp.util.make_position_params(0, client.offset_encoding).position
  return M.execute(M.EXPLAIN, { vim.uri_from_bufnr(bufnr), position }, function(err, result)
    local text = type(result) == 'table' and (result.value or vim.inspect(result)) or tostring(result or '')
    if callback then
      return callback(not err and text or nil, err)
    end
    if err then
      return report(err)
    end
    if text == '' then
      return M.explain_nothing(bufnr)
    end
    vim.lsp.util.open_floating_preview(vim.split(text, '\n', { plain = true }), 'markdown', {
      border = 'rounded',
      focus_id = 'ghostwriter.explain',
    })
  end, bufnr)
end

--- Why an explanation came back empty, in words: a failing backend is not "nothing to explain".
---@param usage table? the server's usage summary
---@return string
function M.empty_explain_message(usage)
  if type(usage) == 'table' and usage.state == 'error' then
    local detail = type(usage.message) == 'string' and usage.message ~= '' and (': ' .. usage.message) or ''
    return 'cannot explain: the model backend is not answering' .. detail .. ' (see :Ghostwriter status)'
  end
  return 'nothing to explain here (put the cursor on a name, a call or a statement)'
end

function M.explain_nothing(bufnr)
  -- The server states the backend's health in its usage summary; ask for a fresh one.
  M.execute(M.SHOW_USAGE, {}, function(err, usage)
    usage = not err and usage or statusline.data()
    local message = M.empty_explain_message(usage)
    util.notify_user(message, usage and usage.state == 'error' and vim.log.levels.WARN or vim.log.levels.INFO)
  end, bufnr)
end

function M.last_prompt(callback)
  return M.execute(M.SHOW_LAST_PROMPT, {}, function(err, result)
    local text = type(result) == 'string' and result or vim.inspect(result)
    if callback then
      return callback(not err and text or nil, err)
    end
    if err then
      return report(err)
    end
    scratch('ghostwriter://last-prompt', text, 'markdown')
  end)
end

--- Stop the server and start it again for the buffers it served.
function M.restart(callback)
  local clients = util.clients()
  local buffers = {}
  for _, client in ipairs(clients) do
    for bufnr in pairs(client.attached_buffers) do
      buffers[#buffers + 1] = bufnr
    end
    util.stop(client)
  end
  local start = require('ghostwriter').start
  local waited = 0
  local timer = assert(vim.uv or vim.loop).new_timer()
  timer:start(50, 50, vim.schedule_wrap(function()
    waited = waited + 50
    local running = vim.tbl_filter(function(c)
      return not util.is_stopped(c)
    end, clients)
    if #running > 0 and waited < 3000 then
      return
    end
    for _, c in ipairs(running) do
      util.stop(c, true)
    end
    timer:stop()
    timer:close()
    statusline.clear()
    for _, bufnr in ipairs(buffers) do
      if vim.api.nvim_buf_is_valid(bufnr) then
        start(bufnr)
      end
    end
    if callback then
      callback()
    end
  end))
end

--- Lines describing the client, the server and the inline engine.
---@return string[]
function M.status_lines()
  local lines = { 'Ghostwriter' }
  local v = vim.version()
  local engine = require('ghostwriter.inline').engine_name()
  lines[#lines + 1] = ('Neovim %d.%d.%d · inline engine: %s'):format(v.major, v.minor, v.patch, engine)
  local clients = util.clients()
  if #clients == 0 then
    lines[#lines + 1] = 'Server: not running (open a supported file, or :Ghostwriter restart)'
    return lines
  end
  for _, client in ipairs(clients) do
    local info = client.server_info or {}
    local caps = client.server_capabilities or {}
    local cmd = client.config and client.config.cmd
    lines[#lines + 1] = ('Server: %s %s · client %d · %s'):format(
      info.name or '?',
      info.version or '',
      client.id,
      type(cmd) == 'table' and table.concat(cmd, ' ') or '?'
    )
    lines[#lines + 1] = ('Root: %s'):format(client.root_dir or client.config.root_dir or '?')
    lines[#lines + 1] = ('Capabilities: inlineCompletion=%s hover=%s codeAction=%s'):format(
      tostring(caps.inlineCompletionProvider ~= nil),
      tostring(caps.hoverProvider ~= nil and caps.hoverProvider ~= false),
      tostring(caps.codeActionProvider ~= nil and caps.codeActionProvider ~= false)
    )
    local buffers = vim.tbl_keys(client.attached_buffers)
    lines[#lines + 1] = ('Buffers: %d attached'):format(#buffers)
  end
  lines[#lines + 1] = 'Usage: ' .. statusline.format(statusline.data())
  return lines
end

function M.status(callback)
  local lines = M.status_lines()
  if callback then
    return callback(lines)
  end
  echo_lines(lines)
end

-- ---------------------------------------------------------------------------------------------
-- :Ghostwriter {subcommand}

M.subcommands = {
  accept = function() require('ghostwriter.lenses').decide(true) end,
  reject = function() require('ghostwriter.lenses').decide(false) end,
  usage = function() M.usage() end,
  reset = function() M.reset() end,
  explain = function() M.explain() end,
  lastPrompt = function() M.last_prompt() end,
  restart = function()
    M.restart(function()
      util.notify_user('restarted')
    end)
  end,
  status = function() M.status() end,
  enable = function() require('ghostwriter').enable_inline(true) end,
  disable = function() require('ghostwriter').enable_inline(false) end,
}

function M.complete(arg_lead)
  local names = vim.tbl_keys(M.subcommands)
  table.sort(names)
  return vim.tbl_filter(function(name)
    return vim.startswith(name, arg_lead)
  end, names)
end

function M.run(opts)
  local name = opts.fargs[1] or 'status'
  local fn = M.subcommands[name]
  if not fn then
    return util.notify_user(
      ('unknown subcommand %q; try one of: %s'):format(name, table.concat(M.complete(''), ', ')),
      vim.log.levels.ERROR
    )
  end
  fn()
end

function M.create()
  vim.api.nvim_create_user_command('Ghostwriter', M.run, {
    nargs = '?',
    complete = M.complete,
    desc = 'Ghostwriter: usage | reset | explain | lastPrompt | restart | status | enable | disable',
  })
end

return M
