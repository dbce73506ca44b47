-- Token/cost status, fed by the server's `ghostwriter/usage` notification.
local config = require('ghostwriter.config')
local util = require('ghostwriter.util')

local M = {}

---@type table? last usage summary received from the server
local current = nil

local CURRENCY_SYMBOLS = { USD = '$', EUR = '€', GBP = '£', JPY = '¥', CNY = '¥' }

--- 950 → "950", 1234 → "1.2k", 999999 → "1M", 2500000 → "2.5M".
---@param n number
---@return string
function M.human(n)
  n = tonumber(n) or 0
  local suffixes = { '', 'k', 'M', 'G' }
  local value, i = n, 1
  while math.abs(value) >= 999.95 and i < #suffixes do
    value, i = value / 1000, i + 1
  end
  if i == 1 then
    return tostring(math.floor(n + 0.5))
  end
  return (('%.1f'):format(value):gsub('%.0$', '')) .. suffixes[i]
end

--- 0 → "$0", 0.00123 → "$0.0012", 0.5 → "$0.500", 12.3 → "$12.30"; unknown currencies as a suffix.
---@param cost number
---@param currency? string
---@return string
function M.money(cost, currency)
  cost = tonumber(cost) or 0
  local amount
  if cost == 0 then
    amount = '0'
  elseif math.abs(cost) < 0.01 then
    amount = ('%.4f'):format(cost)
  elseif math.abs(cost) < 1 then
    amount = ('%.3f'):format(cost)
  else
    amount = ('%.2f'):format(cost)
  end
  currency = currency or 'USD'
  local symbol = CURRENCY_SYMBOLS[currency]
  if symbol then
    return symbol .. amount
  end
  return amount .. ' ' .. currency
end

local function truncate(text, max)
  text = tostring(text):gsub('%s+', ' ')
  if vim.fn.strchars(text) <= max then
    return text
  end
  return vim.fn.strcharpart(text, 0, max - 1) .. '…'
end

--- Money for a session, or "price unknown" when no request had a price (a model missing from the
--- pricing table): "$0" would claim it was free.
---@param session table
---@return string
function M.cost_text(session)
  local requests = tonumber(session.requests) or 0
  local unpriced = tonumber(session.unpricedRequests) or 0
  local cost = tonumber(session.cost)
  if cost == nil and requests == 0 then
    cost = 0
  end
  if cost == nil or (requests > 0 and unpriced >= requests) then
    return 'price unknown'
  end
  return M.money(cost, session.currency)
end

--- The status string for a usage summary (without statusline escaping).
---@param usage table?
---@param opts? { prefix?: string, separator?: string, max_message?: integer }
---@return string
function M.format(usage, opts)
  opts = vim.tbl_extend('force', config.options.statusline, opts or {})
  local prefix, sep = opts.prefix, opts.separator
  if type(usage) ~= 'table' then
    return prefix
  end
  local session = type(usage.session) == 'table' and usage.session or {}
  -- Figures the endpoint never reported are the server's estimate: "~" says so.
  local approx = (tonumber(session.estimatedRequests) or 0) > 0 and '~' or ''
  local parts = {}
  local state = usage.state or 'ready'
  if state == 'paused' or state == 'error' then
    local head = prefix .. ' ' .. state
    local message = type(usage.message) == 'string' and usage.message or ''
    -- "Automatic completions paused: daily budget reached" → "paused: daily budget reached"
    message = message:match('^[^:]*' .. state .. '[^:]*:%s*(.+)$') or message
    if message ~= '' then
      head = head .. ': ' .. truncate(message, opts.max_message)
    end
    parts[#parts + 1] = head
    parts[#parts + 1] = approx .. M.human((session.promptTokens or 0) + (session.completionTokens or 0)) .. ' tok'
  else
    parts[#parts + 1] = prefix
      .. ' '
      .. approx
      .. M.human((session.promptTokens or 0) + (session.completionTokens or 0))
      .. ' tok'
  end
  local hits = tonumber(session.cacheHits)
  if hits then
    parts[#parts + 1] = ('%d %s'):format(hits, hits == 1 and 'hit' or 'hits')
  end
  parts[#parts + 1] = approx .. M.cost_text(session)
  local redacted = tonumber(session.redactedSpans) or 0
  if redacted > 0 then
    parts[#parts + 1] = ('%d redacted'):format(redacted)
  end
  if state == 'busy' then
    parts[#parts + 1] = 'busy'
  end
  return table.concat(parts, sep)
end

--- Statusline component: "" when no Ghostwriter client runs, else e.g. "GW 1.2k tok · 3 hits · $0.0012".
--- `%` is escaped for 'statusline' unless `opts.escape == false`.
---@param opts? { escape?: boolean, prefix?: string, separator?: string, max_message?: integer }
---@return string
function M.get(opts)
  opts = opts or {}
  if #util.clients() == 0 then
    return ''
  end
  local text = M.format(current, opts)
  if opts.escape ~= false then
    text = text:gsub('%%', '%%%%')
  end
  return text
end

--- The last usage summary, or nil.
---@return table?
function M.data()
  return current
end

--- Store a summary (from the notification or a command reply) and redraw.
---@param usage table?
function M.update(usage)
  if type(usage) ~= 'table' then
    return
  end
  current = usage
  vim.schedule(function()
    pcall(vim.cmd.redrawstatus, { bang = true })
    pcall(vim.api.nvim_exec_autocmds, 'User', {
      pattern = 'GhostwriterUsage',
      modeline = false,
      data = usage,
    })
  end)
end

function M.clear()
  current = nil
  vim.schedule(function()
    pcall(vim.cmd.redrawstatus, { bang = true })
  end)
end

--- Handler for the `ghostwriter/usage` notification.
function M.on_usage(_, params)
  M.update(params)
end

return M
