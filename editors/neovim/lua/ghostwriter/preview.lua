-- Show an AI edit's diff before Neovim asks whether to apply it.
--
-- The server marks its AI edits with a change annotation that needs confirmation. Neovim then asks
-- "Yes/No" without showing what would change; VS Code shows its refactor preview. This wraps
-- vim.lsp.util.apply_text_edits so that, for such edits, the unified diff is shown in a float first.
local M = {}

local original ---@type function?

--- The annotation ids in `edits` that need confirmation, with their labels.
---@return table<string, string>
local function confirmed_annotations(edits, annotations)
  local found = {}
  for _, edit in ipairs(edits or {}) do
    local annotation = edit.annotationId and annotations and annotations[edit.annotationId]
    if annotation and annotation.needsConfirmation then
      found[edit.annotationId] = annotation.label or edit.annotationId
    end
  end
  return found
end

local function without_annotations(edits)
  return vim.tbl_map(function(edit)
    return { range = edit.range, newText = edit.newText }
  end, edits)
end

--- The buffer's lines after `edits`, computed in a scratch copy.
function M.lines_after(bufnr, edits, encoding)
  local scratch = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(scratch, 0, -1, false, vim.api.nvim_buf_get_lines(bufnr, 0, -1, false))
  original(without_annotations(edits), scratch, encoding)
  local lines = vim.api.nvim_buf_get_lines(scratch, 0, -1, false)
  vim.api.nvim_buf_delete(scratch, { force = true })
  return lines
end

--- Unified diff of two line lists.
---@return string
function M.diff(before, after)
  local diff = vim.text and vim.text.diff or vim.diff
  return diff(table.concat(before, '\n') .. '\n', table.concat(after, '\n') .. '\n', { ctxlen = 2 }) or ''
end

local function show(title, text)
  local lines = vim.split(text, '\n', { plain = true, trimempty = true })
  local buf, win = vim.lsp.util.open_floating_preview(lines, 'diff', {
    border = 'rounded',
    title = title,
    focus_id = 'ghostwriter.preview',
    max_width = math.max(40, math.floor(vim.o.columns * 0.9)),
    max_height = math.max(5, vim.o.lines - 8),
  })
  vim.bo[buf].filetype = 'diff' -- open_floating_preview sets only 'syntax'
  vim.cmd.redraw()
  return buf, win
end

local function apply_text_edits(edits, bufnr, encoding, annotations)
  local labels = confirmed_annotations(edits, annotations)
  if next(labels) == nil or not original then
    return original(edits, bufnr, encoding, annotations)
  end
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  vim.fn.bufload(bufnr)
  local before = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  local text = M.diff(before, M.lines_after(bufnr, edits, encoding))
  local title = table.concat(vim.tbl_values(labels), ', ')
  local _, win = show(' ' .. title .. ' ', text)
  local answer = vim.fn.confirm(('Apply %s to %s?'):format(title, vim.fn.fnamemodify(vim.api.nvim_buf_get_name(bufnr), ':~:.')),
    '&Yes\n&No', 1, 'Question')
  if win and vim.api.nvim_win_is_valid(win) then
    vim.api.nvim_win_close(win, true)
  end
  if answer ~= 1 then
    return
  end
  -- Already confirmed: apply without Neovim's own question.
  return original(without_annotations(edits), bufnr, encoding)
end

function M.install()
  if original then
    return
  end
  original = vim.lsp.util.apply_text_edits
  vim.lsp.util.apply_text_edits = apply_text_edits
end

return M
