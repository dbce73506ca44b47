-- Defines :Ghostwriter before setup() runs; the client itself starts with require('ghostwriter').setup().
if vim.g.loaded_ghostwriter then
  return
end
vim.g.loaded_ghostwriter = true

vim.api.nvim_create_user_command('Ghostwriter', function(opts)
  require('ghostwriter.commands').run(opts)
end, {
  nargs = '?',
  complete = function(arg_lead)
    return require('ghostwriter.commands').complete(arg_lead)
  end,
  desc = 'Ghostwriter: accept | reject | usage | reset | explain | lastPrompt | restart | status | enable | disable',
})
