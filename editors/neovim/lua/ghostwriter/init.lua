-- Ghostwriter for Neovim: client for the Ghostwriter language server.
--
--   require('ghostwriter').setup({
--     cmd = { 'ghostwriter', 'serve' },
--     settings = { backend = { baseUrl = 'http://127.0.0.1:8000/v1', model = 'qwen2.5-coder-1.5b' } },
--   })
local commands = require('ghostwriter.commands')
local config = require('ghostwriter.config')
local inline = require('ghostwriter.inline')
local statusline = require('ghostwriter.statusline')
local util = require('ghostwriter.util')

local M = {}

M.name = util.name

--- workspace/configuration, answered from the settings table (`ghostwriter` and dotted sub-sections).
local function on_configuration(_, params, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  local root = (client and client.settings) or { ghostwriter = config.options.settings }
  local response = {}
  for _, item in ipairs(params.items or {}) do
    local value = root
    if item.section and item.section ~= '' then
      for key in item.section:gmatch('[^.]+') do
        value = type(value) == 'table' and value[key] or nil
      end
    end
    if type(value) == 'table' then
      value = util.as_object(value)
    end
    response[#response + 1] = value == nil and vim.NIL or value
  end
  return response
end

local initialized = {} ---@type table<integer, boolean>

local function on_init(client)
  initialized[client.id] = true
end

--- A server that dies before answering `initialize` gets one message saying what ran and what to change
--- (Neovim's own says only the exit code).
local function on_exit(code, signal, client_id)
  local started = initialized[client_id]
  initialized[client_id] = nil
  vim.schedule(function()
    if #util.clients() == 0 then
      statusline.clear()
    end
    if not started and (code ~= 0 or signal ~= 0) then
      local cmd = config.options.cmd or {}
      util.notify_user(
        ('the language server `%s` exited with code %d before it started; run `%s doctor` in a terminal to see '
          .. 'why, or pass another cmd to require(\'ghostwriter\').setup(). Details: :LspLog'):format(
          table.concat(cmd, ' '),
          code,
          cmd[1] or 'ghostwriter'
        ),
        vim.log.levels.ERROR
      )
    end
  end)
end

local reported_problem ---@type string?

--- Say once, in one message, why the server cannot start; true when it cannot.
local function cannot_start()
  local problem = config.problem
  if problem and problem ~= reported_problem then
    reported_problem = problem
    util.notify_user(problem, vim.log.levels.ERROR)
  end
  return problem ~= nil
end

local function capabilities(opts)
  local caps = vim.lsp.protocol.make_client_capabilities()
  caps.textDocument = caps.textDocument or {}
  -- Older Neovim does not announce it; the virtual-text engine speaks it all the same.
  caps.textDocument.inlineCompletion = caps.textDocument.inlineCompletion or { dynamicRegistration = false }
  return vim.tbl_deep_extend('force', caps, opts.capabilities or {})
end

--- The client configuration (vim.lsp.Config / vim.lsp.ClientConfig without root_dir).
---@param opts ghostwriter.Options
---@return table
function M.client_config(opts)
  opts = opts or config.options
  local settings = util.as_object(vim.deepcopy(opts.settings))
  return {
    name = util.name,
    cmd = opts.cmd,
    cmd_env = opts.cmd_env,
    filetypes = opts.filetypes,
    root_markers = opts.root_markers,
    settings = { ghostwriter = settings },
    init_options = vim.deepcopy(settings),
    capabilities = capabilities(opts),
    handlers = {
      ['ghostwriter/usage'] = statusline.on_usage,
      ['workspace/configuration'] = on_configuration,
    },
    on_init = on_init,
    on_exit = on_exit,
  }
end

--- Start (or reuse) the server for `bufnr` directly, without vim.lsp.enable.
---@param bufnr? integer
---@return integer? client_id
function M.start(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local opts = config.options
  if not vim.tbl_contains(opts.filetypes, vim.bo[bufnr].filetype) or cannot_start() then
    return nil
  end
  local cfg
  if util.has_011 and vim.lsp.config then
    cfg = vim.deepcopy(vim.lsp.config[util.name] or M.client_config(opts))
  else
    cfg = M.client_config(opts)
  end
  cfg.name = util.name
  if not cfg.root_dir or type(cfg.root_dir) == 'function' then
    local name = vim.api.nvim_buf_get_name(bufnr)
    cfg.root_dir = vim.fs.root(bufnr, cfg.root_markers or opts.root_markers)
      or (name ~= '' and vim.fs.dirname(name))
      or vim.fn.getcwd()
  end
  cfg.root_markers, cfg.filetypes = nil, nil
  return vim.lsp.start(cfg, { bufnr = bufnr })
end

local augroup = vim.api.nvim_create_augroup('ghostwriter', { clear = true })

--- Configure and enable the client. Safe to call again with new options.
---@param user_opts? table see ghostwriter.Options
function M.setup(user_opts)
  local opts = config.merge(user_opts)
  reported_problem = nil
  inline.reset_engine()
  commands.create()
  require('ghostwriter.preview').install()
  require('ghostwriter.next_edit').setup_highlights()
  vim.api.nvim_clear_autocmds({ group = augroup })

  vim.api.nvim_create_autocmd('LspAttach', {
    group = augroup,
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if not client or client.name ~= util.name then
        return
      end
      inline.attach(client, args.buf)
      require('ghostwriter.next_edit').attach(client, args.buf)
      require('ghostwriter.lenses').attach(client, args.buf)
      -- Fill the statusline at once (today's usage persists) instead of after the first model call;
      -- after :Ghostwriter restart it would otherwise stay empty until then.
      commands.execute(commands.SHOW_USAGE, {}, function(err, result)
        if not err then
          statusline.update(result)
        end
      end, args.buf)
      if opts.on_attach then
        opts.on_attach(client, args.buf)
      end
    end,
  })
  vim.api.nvim_create_autocmd('LspDetach', {
    group = augroup,
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if client and client.name == util.name then
        inline.detach(args.buf)
        require('ghostwriter.next_edit').detach(args.buf)
      end
    end,
  })

  if cannot_start() then
    return
  end
  if util.has_011 and vim.lsp.config and vim.lsp.enable then
    vim.lsp.config(util.name, M.client_config(opts))
    vim.lsp.enable(util.name)
  else
    vim.api.nvim_create_autocmd('FileType', {
      group = augroup,
      pattern = opts.filetypes,
      callback = function(args)
        M.start(args.buf)
      end,
    })
    for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
      if vim.api.nvim_buf_is_loaded(bufnr) then
        M.start(bufnr)
      end
    end
  end
end

--- Turn inline suggestions on or off in every attached buffer.
---@param enabled boolean
function M.enable_inline(enabled)
  for _, client in ipairs(util.clients()) do
    for bufnr in pairs(client.attached_buffers) do
      if enabled then
        config.options.inline.enabled = true
        inline.attach(client, bufnr)
      else
        inline.detach(bufnr)
      end
    end
  end
  config.options.inline.enabled = enabled
end

--- Deep-merge `partial` into the settings and tell running servers (workspace/didChangeConfiguration).
---@param partial table content of the `ghostwriter` section
function M.update_settings(partial)
  local opts = config.options
  opts.settings = vim.tbl_deep_extend('force', opts.settings, config.unwrap_settings(partial))
  local wrapped = { ghostwriter = util.as_object(vim.deepcopy(opts.settings)) }
  if util.has_011 and vim.lsp.config then
    vim.lsp.config(util.name, { settings = wrapped, init_options = vim.deepcopy(wrapped.ghostwriter) })
  end
  for _, client in ipairs(util.clients()) do
    client.settings = vim.deepcopy(wrapped)
    if client.config then
      client.config.settings = client.settings
    end
    util.notify(client, 'workspace/didChangeConfiguration', { settings = wrapped })
  end
end

--- Current settings (content of the `ghostwriter` section).
function M.settings()
  return vim.deepcopy(config.options.settings)
end

-- Statusline component, e.g. "GW 1.2k tok · 3 hits · $0.0012".
M.statusline = statusline.get
M.usage_data = statusline.data

-- Inline suggestions.
M.accept = inline.accept
M.accept_word = inline.accept_word
M.accept_line = inline.accept_line
M.next = inline.next
M.prev = inline.prev
M.dismiss = inline.dismiss
M.trigger = inline.trigger
M.is_visible = inline.is_visible
M.current = inline.current

-- Commands (also :Ghostwriter usage|reset|explain|lastPrompt|restart|status).
M.execute = commands.execute
M.usage = commands.usage
M.reset = commands.reset
M.explain = commands.explain
M.last_prompt = commands.last_prompt
M.restart = commands.restart
M.status = commands.status

return M
