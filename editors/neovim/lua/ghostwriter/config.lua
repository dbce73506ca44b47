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
---@field cmd? string[]            server command; default: `ghostwriter serve`, else `python3 -m lsp_server`
---@field cmd_env? table<string,string>
---@field filetypes string[]
---@field root_markers string[]
---@field settings table           content of the `ghostwriter` settings section (camelCase)
---@field inline { enabled: boolean, engine: 'auto'|'native'|'virtual', debounce_ms: integer, hl_group: string }
---@field keymaps ghostwriter.Keymaps
---@field statusline { prefix: string, separator: string, max_message: integer }
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

local function default_cmd()
  if vim.fn.executable('ghostwriter') == 1 then
    return { 'ghostwriter', 'serve' }
  end
  return { vim.fn.exepath('python3') ~= '' and 'python3' or 'python', '-m', 'lsp_server' }
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
  opts.cmd = opts.cmd or default_cmd()
  opts.settings = M.unwrap_settings(opts.settings)
  check('cmd', opts.cmd, 'table')
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
