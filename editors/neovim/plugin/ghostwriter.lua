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

vim.api.nvim_create_user_command('GhostwriterNextEdit', function(opts)
  local next_edit = require('ghostwriter.next_edit')
  local action = opts.args ~= '' and opts.args or 'go'
  if action == 'go' then
    if not next_edit.jump_or_apply(0) then
      next_edit.request(0, 'manual')
    end
  elseif action == 'trigger' then
    next_edit.request(0, 'manual')
  elseif action == 'jump' then
    next_edit.jump(0)
  elseif action == 'apply' then
    next_edit.apply(0)
  elseif action == 'dismiss' then
    next_edit.dismiss(0)
  else
    vim.notify('ghostwriter: :GhostwriterNextEdit [trigger|jump|apply|dismiss]', vim.log.levels.ERROR)
  end
end, {
  nargs = '?',
  complete = function()
    return { 'trigger', 'jump', 'apply', 'dismiss' }
  end,
  desc = 'Ghostwriter next edit: jump to it, or apply it when there (no argument); trigger | jump | apply | dismiss',
})
