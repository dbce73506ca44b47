-- Headless Neovim driver for tests/editors/test_neovim.py.
--
--   GW_DRIVER_CONFIG=config.json nvim --headless --clean -i NONE -n --cmd 'set rtp^=editors/neovim' -c 'luafile driver.lua'
--
-- Runs the steps named in the config inside one coroutine that yields to the event loop between
-- checks (so typed keys, LSP messages and timers are processed), records what happened per step,
-- writes the results as JSON and quits. Steps never wait longer than the config's timeout.
local uv = vim.uv or vim.loop

local function read_file(path)
  local f = assert(io.open(path, 'r'))
  local data = f:read('*a')
  f:close()
  return data
end

local cfg = vim.json.decode(read_file(assert(os.getenv('GW_DRIVER_CONFIG'), 'GW_DRIVER_CONFIG unset')))
local TIMEOUT = cfg.timeout_ms or 10000
-- Starting the server (a Python process) is the slowest thing here, especially on a loaded machine.
local START_TIMEOUT = cfg.start_timeout_ms or 30000

local results = {
  nvim = tostring(vim.version()),
  engine = nil,
  steps = {},
  order = {},
  sent = {}, -- ghostwriter/* notifications the plugin sent
  next_edit_requests = {}, -- params of each ghostwriter/nextEdit request
  usage_events = 0, -- User GhostwriterUsage autocmds seen
  messages = {}, -- window/showMessage from the server
}

local function write_results()
  local f = assert(io.open(cfg.results, 'w'))
  f:write(vim.json.encode(results))
  f:close()
end

local finished = false
local function finish()
  if finished then
    return
  end
  finished = true
  pcall(vim.cmd, 'stopinsert')
  write_results()
  vim.cmd('qa!')
end

-- Never hang: write what we have and quit.
vim.defer_fn(function()
  results.watchdog = true
  finish()
end, cfg.overall_timeout_ms or 100000)

-- -----------------------------------------------------------------------------------------------
-- Coroutine helpers

local function sleep(ms)
  local co = coroutine.running()
  vim.defer_fn(function()
    local ok, err = coroutine.resume(co)
    if not ok then
      results.fatal = tostring(err)
      finish()
    end
  end, ms)
  coroutine.yield()
end

local function wait_until(predicate, timeout, what)
  local deadline = uv.now() + (timeout or TIMEOUT)
  while true do
    local ok, value = pcall(predicate)
    if ok and value then
      return value
    end
    if uv.now() > deadline then
      error(('timed out after %d ms waiting for %s'):format(timeout or TIMEOUT, what or 'a condition'), 2)
    end
    sleep(20)
  end
end

local function check(cond, msg, ...)
  if not cond then
    error(msg:format(...), 2)
  end
end

local function keys(str, mode)
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(str, true, false, true), mode or 'm', false)
end

local function mode()
  return vim.api.nvim_get_mode().mode
end

local function step(name, fn)
  local record = { ok = false }
  results.steps[name] = record
  results.order[#results.order + 1] = name
  local started = uv.hrtime()
  local ok, err = xpcall(function()
    fn(record)
  end, debug.traceback)
  record.ok = ok
  if not ok then
    record.error = tostring(err)
  end
  record.ms = math.floor((uv.hrtime() - started) / 1e6)
  -- Leave insert mode between steps so each starts from Normal mode.
  if mode():sub(1, 1) == 'i' then
    keys('<Esc>', 'n')
    pcall(wait_until, function()
      return mode() == 'n'
    end, 2000, 'normal mode')
  end
end

-- -----------------------------------------------------------------------------------------------
-- Fake backend control (POST /_control/rules through the test's Python)

local POST = [[
import sys, urllib.request
req = urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), headers={"Content-Type": "application/json"})
urllib.request.urlopen(req, timeout=5).read()
]]

local function set_rules(rules)
  local res = vim.system({ cfg.python, '-c', POST, cfg.control_url .. '/_control/rules', vim.json.encode(rules) }):wait()
  check(res.code == 0, 'setting fake rules failed: %s', res.stderr or '')
end

-- -----------------------------------------------------------------------------------------------
-- Plugin under test

(vim.lsp.log.set_level or vim.lsp.set_log_level)(cfg.lsp_log_level or "WARN")

local gw = require('ghostwriter')
gw.setup({
  cmd = cfg.server_cmd ~= vim.NIL and cfg.server_cmd or nil, -- null: the plugin finds the server itself
  settings = cfg.settings,
  inline = { engine = cfg.engine, debounce_ms = 50 },
  next_edit = { debounce_ms = 100 },
})
results.engine = require('ghostwriter.inline').engine_name()

vim.api.nvim_create_autocmd('User', {
  pattern = 'GhostwriterUsage',
  callback = function()
    results.usage_events = results.usage_events + 1
  end,
})

local show_message = vim.lsp.handlers['window/showMessage']
vim.lsp.handlers['window/showMessage'] = function(err, params, ctx, ...)
  results.messages[#results.messages + 1] = params and params.message
  return show_message(err, params, ctx, ...)
end

local client ---@type vim.lsp.Client
local bufnr ---@type integer

local function record_sent(c)
  local notify = c.notify
  c.notify = function(self, method, params)
    if type(method) == 'string' and method:match('^ghostwriter/') then
      results.sent[#results.sent + 1] = { method = method, params = params }
    end
    return notify(self, method, params)
  end
  local request = c.request
  c.request = function(self, method, params, ...)
    if method == 'ghostwriter/nextEdit' then
      results.next_edit_requests[#results.next_edit_requests + 1] = vim.deepcopy(params)
    end
    return request(self, method, params, ...)
  end
end

local function line(n)
  return vim.api.nvim_buf_get_lines(bufnr, n - 1, n, false)[1]
end

local function sent(method)
  return vim.tbl_filter(function(n)
    return n.method == method
  end, results.sent)
end

--- Run a workspace command through the plugin and wait for its answer.
local function execute(command, arguments)
  local done, answer, failure = false, nil, nil
  gw.execute(command, arguments, function(err, result)
    done, answer, failure = true, result, err
  end, bufnr)
  wait_until(function()
    return done
  end, TIMEOUT, command)
  check(not failure, '%s failed: %s', command, vim.inspect(failure))
  return answer
end

--- Enter insert mode at the end of line `n` and wait for a suggestion.
local function suggest_at_end_of(n)
  vim.api.nvim_win_set_cursor(0, { n, 0 })
  keys('A', 'n')
  wait_until(function()
    return mode():sub(1, 1) == 'i'
  end, 2000, 'insert mode')
  return wait_until(function()
    return gw.is_visible(bufnr) and gw.current(bufnr)
  end, TIMEOUT, 'ghost text')
end

-- -----------------------------------------------------------------------------------------------
-- Steps

local steps = {}

function steps.attach(r)
  vim.cmd.edit(vim.fn.fnameescape(cfg.file))
  bufnr = vim.api.nvim_get_current_buf()
  r.filetype = vim.bo[bufnr].filetype
  client = wait_until(function()
    local c = vim.lsp.get_clients({ bufnr = bufnr, name = 'ghostwriter' })[1]
    return c and c.initialized and c
  end, START_TIMEOUT, 'the ghostwriter client to attach')
  record_sent(client)
  local caps = client.server_capabilities or {}
  r.client_id = client.id
  r.server_name = client.server_info and client.server_info.name
  r.root_dir = client.root_dir
  r.cmd = client.config.cmd
  r.inline_completion_provider = caps.inlineCompletionProvider ~= nil
  r.hover_provider = caps.hoverProvider ~= nil and caps.hoverProvider ~= false
  r.code_action_provider = caps.codeActionProvider
  r.commands = caps.executeCommandProvider and caps.executeCommandProvider.commands or {}
  r.inline_enabled = vim.lsp.inline_completion ~= nil
    and vim.lsp.inline_completion.is_enabled({ bufnr = bufnr })
    or false
end

function steps.inline_accept(r)
  local spec = cfg.inline
  set_rules(spec.rules)
  local before = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  local current = suggest_at_end_of(spec.line)
  r.ghost = current.text
  r.item_id = current.itemId
  -- Accept with the mapped key, as a user would.
  keys(cfg.keymaps and cfg.keymaps.accept or '<Tab>', 'm')
  wait_until(function()
    return line(spec.line) ~= before[spec.line]
  end, TIMEOUT, 'the accepted text in the buffer')
  r.line_after = line(spec.line)
  r.cursor = vim.api.nvim_win_get_cursor(0)
  r.lines_after = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  wait_until(function()
    return #sent('ghostwriter/didAcceptCompletion') > 0
  end, 2000, 'didAcceptCompletion')
  r.did_show = sent('ghostwriter/didShowCompletion')
  r.did_accept = sent('ghostwriter/didAcceptCompletion')
end

function steps.completion_stats(r)
  -- The server's own acceptance statistics, fed by the didShow/didAccept notifications.
  r.stats = execute('ghostwriter.completionStats', {})
end

function steps.inline_partial(r)
  local spec = cfg.inline
  set_rules(spec.rules)
  local original = line(spec.line)
  local current = suggest_at_end_of(spec.line)
  r.ghost = current.text
  r.after = {}
  for _, action in ipairs(spec.partial_keys) do
    local before = line(spec.line)
    keys(action, 'm')
    wait_until(function()
      return line(spec.line) ~= before
    end, TIMEOUT, 'a partial accept')
    -- Let the plugin redraw what is left.
    sleep(30)
    local rest = gw.current(bufnr)
    r.after[#r.after + 1] = { line = line(spec.line), rest = rest and rest.text or vim.NIL }
  end
  keys('<Tab>', 'm')
  local last = line(spec.line)
  wait_until(function()
    return line(spec.line) ~= last
  end, TIMEOUT, 'the final accept')
  r.final = line(spec.line)
  r.did_accept = sent('ghostwriter/didAcceptCompletion')
  r.did_show = sent('ghostwriter/didShowCompletion')
  keys('<Esc>', 'n')
  wait_until(function()
    return mode() == 'n'
  end, 2000, 'normal mode')
  -- Dismiss: a new suggestion goes away on <C-]> and leaves the buffer alone.
  vim.api.nvim_buf_set_lines(bufnr, spec.line - 1, spec.line, false, { original })
  local lines_before = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  suggest_at_end_of(spec.line)
  keys('<C-]>', 'm')
  wait_until(function()
    return not gw.is_visible(bufnr)
  end, 2000, 'the suggestion to go away')
  sleep(100)
  r.dismissed_unchanged = vim.deep_equal(lines_before, vim.api.nvim_buf_get_lines(bufnr, 0, -1, false))
end

function steps.hover(r)
  local spec = cfg.hover
  set_rules(spec.rules)
  vim.api.nvim_win_set_cursor(0, spec.cursor)
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  local responses = vim.lsp.buf_request_sync(bufnr, 'textDocument/hover', params, TIMEOUT) or {}
  local response = responses[client.id] or {}
  check(not response.err, 'hover error: %s', vim.inspect(response.err))
  local result = response.result
  check(result ~= nil, 'hover returned nothing')
  local contents = result.contents
  r.kind = type(contents) == 'table' and contents.kind or vim.NIL
  r.value = type(contents) == 'table' and (contents.value or vim.inspect(contents)) or tostring(contents)
  -- And through the UI: vim.lsp.buf.hover() opens a floating window with it.
  vim.lsp.buf.hover()
  local float = wait_until(function()
    for _, win in ipairs(vim.api.nvim_list_wins()) do
      if vim.api.nvim_win_get_config(win).relative ~= '' then
        return win
      end
    end
  end, TIMEOUT, 'the hover window')
  r.float_text = table.concat(vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(float), 0, -1, false), '\n')
  vim.api.nvim_win_close(float, true)
end

function steps.code_action(r)
  local spec = cfg.code_action
  set_rules(spec.rules)
  local range = spec.range -- { first_line, last_line } 1-based, whole lines
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    range = {
      start = { line = range[1] - 1, character = 0 },
      ['end'] = { line = range[2], character = 0 },
    },
    context = { diagnostics = {}, triggerKind = 1 },
  }
  local responses = vim.lsp.buf_request_sync(bufnr, 'textDocument/codeAction', params, TIMEOUT) or {}
  local response = responses[client.id] or {}
  check(not response.err, 'codeAction error: %s', vim.inspect(response.err))
  local actions = response.result or {}
  r.titles = vim.tbl_map(function(a)
    return a.title
  end, actions)
  r.kinds = vim.tbl_map(function(a)
    return a.kind or vim.NIL
  end, actions)
  -- Listing is cheap: the edit only exists after codeAction/resolve.
  r.listed_with_edit = vim.tbl_map(function(a)
    return a.edit ~= nil
  end, actions)
  -- Apply the chosen one the way a user does: vim.lsp.buf.code_action resolves it, then applies it.
  -- Neovim asks before applying an edit whose change annotation needs confirmation; answer Yes
  -- and keep the question.
  local confirm = vim.fn.confirm
  r.confirmations = {}
  r.previews = {}
  vim.fn.confirm = function(msg, ...)
    r.confirmations[#r.confirmations + 1] = msg
    -- What the user sees while asked: the diff float the plugin opened.
    for _, win in ipairs(vim.api.nvim_list_wins()) do
      if vim.api.nvim_win_get_config(win).relative ~= '' then
        local buf = vim.api.nvim_win_get_buf(win)
        r.previews[#r.previews + 1] = {
          filetype = vim.bo[buf].filetype,
          lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false),
        }
      end
    end
    return 1
  end
  local before = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  local ok, err = pcall(function()
    vim.lsp.buf.code_action({
      apply = true,
      range = { start = { range[1], 0 }, ['end'] = { range[2] + 1, 0 } },
      filter = function(action)
        return action.title:find(spec.title, 1, true) ~= nil
      end,
    })
    wait_until(function()
      return not vim.deep_equal(before, vim.api.nvim_buf_get_lines(bufnr, 0, -1, false))
    end, TIMEOUT, 'the code action edit')
  end)
  vim.fn.confirm = confirm
  if not ok then
    error(err, 0)
  end
  r.lines_after = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
end

function steps.inline_diff(r)
  -- codeActions.preview = 'inlineDiff': the proposal is written between markers with Accept / Reject lenses.
  local spec = cfg.code_action
  set_rules(spec.rules)
  local range = spec.range
  vim.lsp.buf.code_action({
    apply = true,
    range = { start = { range[1], 0 }, ['end'] = { range[2] + 1, 0 } },
    filter = function(action)
      return action.title:find(spec.title, 1, true) ~= nil
    end,
  })
  local lenses = require('ghostwriter.lenses')
  wait_until(function()
    return lenses.pending(bufnr)
  end, TIMEOUT, 'the inline diff markers')
  r.lines_with_diff = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  -- Nobody asked for lenses: the plugin must have.
  r.lenses = wait_until(function()
    local got = vim.lsp.codelens.get(bufnr)
    return #got >= 2 and got
  end, TIMEOUT, 'Accept / Reject code lenses')
  local ns = vim.lsp.codelens.__namespaces and vim.lsp.codelens.__namespaces[client.id]
  r.lens_marks = ns and #vim.api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, {}) or vim.NIL
  -- :Ghostwriter accept, the way a user would (through the plugin, not the raw command).
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  local done, failure = false, nil
  lenses.decide(true, function(_, err)
    done, failure = true, err
  end)
  wait_until(function()
    return done and not lenses.pending(bufnr)
  end, TIMEOUT, 'the accepted proposal')
  check(not failure, 'accept failed: %s', vim.inspect(failure))
  r.lines_after = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  r.lenses_after = wait_until(function()
    return #vim.lsp.codelens.get(bufnr) == 0 and 0
  end, TIMEOUT, 'the lenses to go')
  -- A second proposal, then a save while it is pending: the server rejects it first (willSaveWaitUntil),
  -- so neither the buffer nor the file on disk keeps the markers.
  vim.lsp.buf.code_action({
    apply = true,
    range = { start = { range[1], 0 }, ['end'] = { range[2] + 1, 0 } },
    filter = function(action)
      return action.title:find(spec.title, 1, true) ~= nil
    end,
  })
  wait_until(function()
    return lenses.pending(bufnr)
  end, TIMEOUT, 'the second proposal')
  local notify = vim.notify
  r.save_messages = {}
  vim.notify = function(msg, ...)
    r.save_messages[#r.save_messages + 1] = msg
    return notify(msg, ...)
  end
  vim.cmd('silent write')
  r.pending_after_save = lenses.pending(bufnr)
  r.saved_lines = vim.fn.readfile(vim.api.nvim_buf_get_name(bufnr))
  wait_until(function()
    return #r.save_messages > 0
  end, TIMEOUT, 'the message about the rejected proposal')
  vim.notify = notify
end

function steps.statusline(r)
  -- The server pushes ghostwriter/usage at most once a second.
  r.text = wait_until(function()
    local data = gw.usage_data()
    local s = data and data.session
    return s and (s.promptTokens or 0) + (s.completionTokens or 0) > 0 and gw.statusline()
  end, TIMEOUT, 'a usage notification with tokens')
  r.unescaped = gw.statusline({ escape = false })
  r.usage = gw.usage_data()
  r.usage_events = results.usage_events
  -- It works as a real 'statusline' expression, too.
  vim.o.laststatus = 2
  vim.o.statusline = "%!v:lua.require'ghostwriter'.statusline()"
  vim.cmd.redrawstatus()
  r.evaluated = vim.api.nvim_eval_statusline(vim.o.statusline, {}).str
end

--- Call one of the plugin's command functions (they take a `callback(result, err)`) and wait.
local function call(fn, what)
  local done, answer, failure = false, nil, nil
  fn(function(result, err)
    done, answer, failure = true, result, err
  end)
  wait_until(function()
    return done
  end, TIMEOUT, what)
  check(not failure, '%s failed: %s', what, vim.inspect(failure))
  return answer
end

function steps.commands(r)
  -- :Ghostwriter usage / ghostwriter.showUsage
  r.usage = call(gw.usage, 'showUsage')
  r.usage_lines = require('ghostwriter.commands').format_usage(r.usage)
  -- :Ghostwriter lastPrompt
  r.last_prompt = call(gw.last_prompt, 'showLastPrompt')
  -- :Ghostwriter status
  r.status = require('ghostwriter.commands').status_lines()
  -- The user command exists and runs without error.
  r.ex_status_ok = pcall(vim.cmd, 'Ghostwriter status')
  r.completion = vim.fn.getcompletion('Ghostwriter ', 'cmdline')
  -- :Ghostwriter reset zeroes the session and the statusline follows.
  r.reset = call(gw.reset, 'resetUsage')
  r.statusline_after_reset = gw.statusline({ escape = false })
end

function steps.explain_command(r)
  -- :Ghostwriter explain (the fake answers chat calls with the explanation)
  set_rules(cfg.hover.rules)
  vim.api.nvim_win_set_cursor(0, cfg.hover.cursor)
  r.explain = call(gw.explain, 'explain')
end

function steps.restart(r)
  local old = client.id
  vim.cmd('Ghostwriter restart')
  client = wait_until(function()
    local c = vim.lsp.get_clients({ bufnr = bufnr, name = 'ghostwriter' })[1]
    return c and c.id ~= old and c.initialized and c
  end, START_TIMEOUT, 'a new client after restart')
  r.old_id = old
  r.new_id = client.id
  -- The statusline is filled again without waiting for a model call.
  r.statusline_after = wait_until(function()
    return gw.usage_data() ~= nil and gw.statusline({ escape = false })
  end, 5000, 'the statusline after restart')
  r.clients = #vim.lsp.get_clients({ name = 'ghostwriter' })
end


-- Next-edit suggestions (cfg.next_edit): the user's edit through typed keys, the suggestion drawn as
-- virtual lines, the key jumps then applies; then the two ways a suggestion can go stale.
local function next_edit_marks()
  local ns = vim.api.nvim_get_namespaces()['ghostwriter.next_edit']
  local marks = {}
  for _, mark in ipairs(vim.api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, { details = true })) do
    local d = mark[4]
    local virt = {}
    for _, chunks in ipairs(d.virt_lines or {}) do
      virt[#virt + 1] = { text = chunks[1][1], hl = chunks[1][2] }
    end
    marks[#marks + 1] = {
      row = mark[2],
      col = mark[3],
      end_row = d.end_row or vim.NIL,
      end_col = d.end_col or vim.NIL,
      hl = d.hl_group or vim.NIL,
      virt_lines = virt,
      virt_text = d.virt_text and d.virt_text[1][1] or vim.NIL,
    }
  end
  return marks
end

local function buffer_text()
  return table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), '\n') .. '\n'
end

local function outcomes()
  return vim.tbl_map(function(n)
    return n.params
  end, sent('ghostwriter/nextEditOutcome'))
end

local function model_requests()
  local res = vim.system({ cfg.python, '-c', [[
import sys, urllib.request, json
print(len(json.loads(urllib.request.urlopen(sys.argv[1], timeout=5).read())["requests"]))
]], cfg.control_url .. '/_control/log' }):wait()
  return tonumber(vim.trim(res.stdout or '')) or -1
end

function steps.next_edit(r)
  local spec = cfg.next_edit
  local next_edit = require('ghostwriter.next_edit')
  local key = require('ghostwriter.config').options.next_edit.keymaps.accept
  set_rules(spec.rules)
  -- The user's edit, typed: on line 1, change the word under the cursor.
  vim.api.nvim_win_set_cursor(0, spec.edit_cursor)
  keys(spec.edit_keys, 'n')
  local suggestion = wait_until(function()
    return next_edit.current(bufnr)
  end, TIMEOUT, 'a next-edit suggestion')
  r.after_edit = buffer_text()
  r.version = suggestion.textDocument.version
  r.buffer_version = vim.lsp.util.buf_versions[bufnr]
  r.jump_to = suggestion.jumpTo
  r.marks = next_edit_marks()
  -- The key: first it jumps to the suggestion ...
  keys(key, 'm')
  r.cursor_after_jump = wait_until(function()
    local cursor = vim.api.nvim_win_get_cursor(0)
    return cursor[1] - 1 == suggestion.jumpTo.line and cursor
  end, 2000, 'the jump')
  r.shown_after_jump = next_edit.current(bufnr) ~= nil
  -- ... then it applies it.
  keys(key, 'm')
  wait_until(function()
    return buffer_text() ~= r.after_edit
  end, TIMEOUT, 'the applied next edit')
  r.after_apply = buffer_text()
  r.marks_after_apply = #next_edit_marks()
  r.requests = vim.deepcopy(results.next_edit_requests)
  wait_until(function()
    return #outcomes() > 0
  end, 2000, 'the outcome notification')
  r.outcomes = outcomes()
  r.accepted_id = suggestion.id
end

--- Wait until no next-edit request is in flight or due (an applied edit asks for the next one).
local function next_edit_idle()
  local next_edit = require('ghostwriter.next_edit')
  wait_until(function()
    return not next_edit.pending(bufnr)
  end, TIMEOUT, 'no next-edit request in flight')
  sleep(200)
  wait_until(function()
    return not next_edit.pending(bufnr)
  end, TIMEOUT, 'no next-edit request in flight')
end

function steps.next_edit_dismiss(r)
  local spec = cfg.next_edit
  local next_edit = require('ghostwriter.next_edit')
  next_edit_idle()
  set_rules(spec.dismiss_rules)
  local before = buffer_text()
  local asked = #results.next_edit_requests
  keys(spec.stale_cursor[1] .. 'G', 'n') -- a move to another line asks by itself
  local shown = wait_until(function()
    return next_edit.current(bufnr)
  end, TIMEOUT, 'a suggestion to dismiss')
  r.marks = #next_edit_marks()
  r.triggers = vim.tbl_map(function(p)
    return p.trigger
  end, vim.list_slice(results.next_edit_requests, asked + 1))
  keys('<Esc>', 'm')
  wait_until(function()
    return next_edit.current(bufnr) == nil
  end, 2000, 'the suggestion to go')
  r.marks_after = #next_edit_marks()
  r.unchanged = buffer_text() == before
  wait_until(function()
    return #vim.tbl_filter(function(o)
      return o.id == shown.id
    end, outcomes()) > 0
  end, 2000, 'the outcome notification')
  r.outcomes = vim.tbl_filter(function(o)
    return o.id == shown.id
  end, outcomes())
end

function steps.next_edit_stale(r)
  local spec = cfg.next_edit
  local next_edit = require('ghostwriter.next_edit')
  local key = require('ghostwriter.config').options.next_edit.keymaps.accept
  next_edit_idle()
  r.before = buffer_text()
  -- 1. The answer arrives after the user typed on: computed for an older version, never shown.
  set_rules(spec.slow_rules)
  local before_requests = model_requests()
  vim.api.nvim_win_set_cursor(0, spec.stale_cursor)
  vim.cmd('GhostwriterNextEdit trigger')
  wait_until(function()
    return model_requests() > before_requests
  end, TIMEOUT, 'the model to be asked')
  local asked_version = vim.lsp.util.buf_versions[bufnr]
  keys(spec.stale_keys, 'n') -- typed while the model works
  wait_until(function()
    return buffer_text() ~= r.before
  end, 2000, 'the typed text')
  r.typed = buffer_text()
  r.asked_version = asked_version
  r.version_after_typing = vim.lsp.util.buf_versions[bufnr]
  sleep(spec.slow_ms + 1000) -- the slow answer (for the older version) has come and gone
  r.shown_after_slow_answer = next_edit.current(bufnr) ~= nil
  r.after_slow_answer = buffer_text()
  -- 2. Shown for version N; the buffer reaches N+1 and the key comes before the plugin saw the change
  --    (same tick: no TextChanged yet). The key must not apply the N suggestion to N+1.
  set_rules(spec.rules_after)
  vim.cmd('GhostwriterNextEdit trigger')
  local shown = wait_until(function()
    return next_edit.current(bufnr)
  end, TIMEOUT, 'the second suggestion')
  r.second_version = shown.textDocument.version
  local cursor_line = vim.api.nvim_win_get_cursor(0)[1] - 1
  if cursor_line ~= shown.jumpTo.line then
    keys(key, 'm') -- jump there first
    wait_until(function()
      return vim.api.nvim_win_get_cursor(0)[1] - 1 == shown.jumpTo.line
    end, 2000, 'the jump')
  end
  local done = false
  vim.schedule(function()
    vim.api.nvim_buf_set_lines(bufnr, -1, -1, false, { spec.appended })
    r.applied_to_newer = next_edit.jump_or_apply(bufnr) == 'apply'
    r.text_right_after = buffer_text()
    done = true
  end)
  wait_until(function()
    return done
  end, 2000, 'the change and the key')
  r.shown_after_change = next_edit.current(bufnr) ~= nil
  r.outcomes = outcomes()
  r.second_id = shown.id
  r.final = buffer_text()
end

-- -----------------------------------------------------------------------------------------------

local function main()
  for _, name in ipairs(cfg.steps) do
    local fn = steps[name]
    if not fn then
      results.steps[name] = { ok = false, error = 'unknown step ' .. name }
    else
      step(name, fn)
      if name == 'attach' and not results.steps.attach.ok then
        break -- nothing else can work
      end
    end
  end
  finish()
end

vim.schedule(function()
  local co = coroutine.create(function()
    local ok, err = xpcall(main, debug.traceback)
    if not ok then
      results.fatal = tostring(err)
      finish()
    end
  end)
  local ok, err = coroutine.resume(co)
  if not ok then
    results.fatal = tostring(err)
    finish()
  end
end)
