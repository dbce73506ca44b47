-- Plugin options: defaults, merging and validation.
local M = {}

---@class ghostwriter.Keymaps
---@field accept string|false      accept the whole suggestion (falls back to the key itself)
---@field accept_word string|false
---@field accept_line string|false
---@field next string|false
---@field prev string|false
---@field dismiss string|false
---@field trigger string|false     request a suggestion now (virtual-text engine)

---@class ghostwriter.Options
---@field cmd? string[]            server command; default: the first `ghostwriter` found (see find_server), `serve`
---@field cmd_env? table<string,string>
---@field filetypes string[]
---@field root_markers string[]
---@field settings table           content of the `ghostwriter` settings section (camelCase)
---@field inline { enabled: boolean, engine: 'auto'|'native'|'virtual', debounce_ms: integer, hl_group: string }
---@field keymaps ghostwriter.Keymaps
---@field statusline { prefix: string, separator: string, max_message: integer }
---@field next_edit { enabled: boolean, debounce_ms: integer, removed_hl: string, added_hl: string, keymaps: { accept: string|false, dismiss: string|false } }
---@field capabilities? table
---@field on_attach? fun(client: vim.lsp.Client, bufnr: integer)

---@type ghostwriter.Options
M.defaults = {
  cmd = nil,
  cmd_env = nil,
  filetypes = {
    'python',
    'javascript',
    'javascriptreact',
    'typescript',
    'typescriptreact',
    'go',
    'rust',
    'java',
  },
  root_markers = {
    '.git',
    'pyproject.toml',
    'setup.py',
    'package.json',
    'go.mod',
    'Cargo.toml',
    'pom.xml',
    'build.gradle',
  },
  settings = {},
  inline = {
    enabled = true,
    -- 'native' uses vim.lsp.inline_completion (Neovim 0.12+); 'virtual' draws the suggestion with
    -- extmarks and requests textDocument/inlineCompletion itself (any version); 'auto' picks native
    -- when available.
    engine = 'auto',
    debounce_ms = 150,
    hl_group = 'GhostwriterSuggestion',
  },
  keymaps = {
    accept = '<Tab>',
    accept_word = '<M-Right>',
    accept_line = '<M-Down>',
    next = '<M-]>',
    prev = '<M-[>',
    dismiss = '<C-]>',
    trigger = '<M-\\>',
  },
  -- Next-edit suggestions (ghostwriter/nextEdit): asked for after a pause in an edit and on a move to
  -- another line (`enabled = false`: only on the key or :GhostwriterNextEdit). `accept` (normal and
  -- insert mode) jumps to the shown suggestion, then applies it, and asks for one when none is shown;
  -- `dismiss` (normal mode) is mapped only while one is shown. false turns a key off.
  next_edit = {
    enabled = true,
    debounce_ms = 400,
    removed_hl = 'GhostwriterNextEditRemoved',
    added_hl = 'GhostwriterNextEditAdded',
    keymaps = {
      accept = '<M-n>',
      dismiss = '<Esc>',
    },
  },
  statusline = {
    prefix = 'GW',
    separator = ' · ',
    max_message = 48,
  },
  capabilities = nil,
  on_attach = nil,
}

---@type ghostwriter.Options
M.options = vim.deepcopy(M.defaults)

--- Why the server cannot start with the current options (set by merge), or nil.
---@type string?
M.problem = nil

--- The Ghostwriter checkout this plugin was loaded from (editors/neovim/lua/ghostwriter/config.lua → root).
local function checkout_root()
  local source = debug.getinfo(1, 'S').source:gsub('^@', '')
  return vim.fs.dirname(vim.fs.dirname(vim.fs.dirname(vim.fs.dirname(vim.fs.dirname(source)))))
end

--- Where README's install steps put `ghostwriter`, most specific first: PATH, the project's
--- virtualenv, the checkout's own .venv (when this plugin is loaded from it), pipx / uv tool.
---@param cwd? string
---@return string[]
function M.server_candidates(cwd)
  cwd = cwd or vim.fn.getcwd()
  local home = vim.env.HOME or '~'
  return {
    'ghostwriter',
    cwd .. '/.venv/bin/ghostwriter',
    cwd .. '/venv/bin/ghostwriter',
    checkout_root() .. '/.venv/bin/ghostwriter',
    home .. '/.local/bin/ghostwriter',
  }
end

--- The first candidate that can run, as a command line; nil and the places tried when none can.
---@param cwd? string
---@return string[]?, string[]
function M.find_server(cwd)
  local tried = M.server_candidates(cwd)
  for _, candidate in ipairs(tried) do
    if vim.fn.executable(candidate) == 1 then
      return { candidate == 'ghostwriter' and vim.fn.exepath(candidate) or candidate, 'serve' }, tried
    end
  end
  return nil, tried
end

--- One message for a server that cannot start: the command tried and the option that fixes it.
---@param cmd string[]? the user's command, or nil when none was found
---@param tried string[]
---@return string
function M.not_found_message(cmd, tried)
  local fix = "Install it (see the Ghostwriter README: pipx install /path/to/ghostwriter) or pass "
    .. "cmd = { '/path/to/ghostwriter', 'serve' } to require('ghostwriter').setup()."
  if cmd then
    return ("cannot start the language server: %q is not an executable command. %s"):format(cmd[1], fix)
  end
  local places = {}
  for i, candidate in ipairs(tried) do
    places[i] = i == 1 and 'ghostwriter on PATH' or candidate
  end
  return ('cannot start the language server: no ghostwriter command found (tried %s). %s'):format(
    table.concat(places, ', '),
    fix
  )
end

--- Why `cmd` cannot start, or nil.
---@param cmd string[]?
---@param tried string[]
---@return string?
function M.start_problem(cmd, tried)
  if not cmd then
    return M.not_found_message(nil, tried)
  end
  if type(cmd[1]) ~= 'string' or vim.fn.executable(cmd[1]) ~= 1 then
    return M.not_found_message(cmd, tried)
  end
  return nil
end

--- Settings may be given as the section's content or wrapped in `{ ghostwriter = ... }`.
---@param settings table?
---@return table
function M.unwrap_settings(settings)
  settings = settings or {}
  if type(settings.ghostwriter) == 'table' then
    return settings.ghostwriter
  end
  return settings
end

local function check(name, value, expected)
  if type(value) ~= expected then
    error(('ghostwriter: %s must be a %s, got %s'):format(name, expected, type(value)), 3)
  end
end

---@param user? table
---@return ghostwriter.Options
function M.merge(user)
  user = user or {}
  check('opts', user, 'table')
  local opts = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), user)
  -- Lists replace rather than merge.
  for _, key in ipairs({ 'cmd', 'filetypes', 'root_markers' }) do
    if user[key] ~= nil then
      opts[key] = user[key]
    end
  end
  local tried
  if opts.cmd == nil then
    opts.cmd, tried = M.find_server()
  end
  opts.settings = M.unwrap_settings(opts.settings)
  -- Neovim asks for a hover only when the user presses K, so explaining on every hover costs nothing
  -- unasked; the server's own default ("onDemand") would leave K empty.
  if opts.settings.hover == nil or opts.settings.hover.mode == nil then
    opts.settings.hover = vim.tbl_extend('force', opts.settings.hover or {}, { mode = 'always' })
  end
  M.problem = M.start_problem(opts.cmd, tried or M.server_candidates())
  if opts.cmd ~= nil then
    check('cmd', opts.cmd, 'table')
  end
  check('filetypes', opts.filetypes, 'table')
  check('root_markers', opts.root_markers, 'table')
  check('settings', opts.settings, 'table')
  local engines = { auto = true, native = true, virtual = true }
  if not engines[opts.inline.engine] then
    error(("ghostwriter: inline.engine must be 'auto', 'native' or 'virtual', got %q"):format(
      tostring(opts.inline.engine)
    ))
  end
  M.options = opts
  return opts
end

return M
