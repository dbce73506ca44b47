-- How the plugin finds the server and what it says when it cannot, in a headless Neovim:
--   nvim --headless --clean --cmd 'set rtp^=editors/neovim' -l first_run.lua OUT.json [CMD...]
-- Run with the PATH, HOME and working directory the test chose; records setup()'s outcome and messages.
local messages = {}
vim.notify = function(msg, level)
  messages[#messages + 1] = { msg = msg, level = level }
end
local cmd = #arg > 1 and vim.list_slice(arg, 2) or nil
local gw = require('ghostwriter')
gw.setup({ cmd = cmd })
local config = require('ghostwriter.config')
-- Opening a Python file must not start anything, nor repeat the message.
vim.cmd.edit('probe.py')
vim.wait(200)
local inline = require('ghostwriter.inline')
inline.define_highlights()
local out = {
  cmd = config.options.cmd or vim.NIL,
  problem = config.problem or vim.NIL,
  messages = messages,
  clients = #vim.lsp.get_clients({ name = 'ghostwriter' }),
  hover_mode = config.options.settings.hover.mode,
  suggestion_ctermfg = vim.api.nvim_get_hl(0, { name = 'GhostwriterSuggestion', link = false }).ctermfg or vim.NIL,
  complhint_ctermfg = vim.api.nvim_get_hl(0, { name = 'ComplHint', link = false }).ctermfg or vim.NIL,
}
local f = assert(io.open(assert(arg[1], 'output path'), 'w'))
f:write(vim.json.encode(out))
f:close()
