-- Headless Neovim test of the adlint language server (run by run.sh).
-- Opens a Julia file of a fixture project, waits for the server's diagnostics, checks the
-- exact rule codes and positions, applies the "Suppress ... on this line" code action and
-- checks the buffer text. Exits 0 on success, 1 on failure.
local root = assert(vim.env.ADLINT_NVIM_ROOT, "ADLINT_NVIM_ROOT")
local project = assert(vim.env.ADLINT_NVIM_PROJECT, "ADLINT_NVIM_PROJECT")

local function fail(msg)
  io.stderr:write("FAIL: " .. msg .. "\n")
  vim.cmd("cquit 1")
end

local function check(cond, msg)
  if not cond then
    fail(msg)
  end
end

local ok, err = pcall(function()
  vim.opt.runtimepath:prepend(root .. "/editors/nvim")
  vim.cmd("filetype on")
  require("adlint").setup({})

  vim.cmd("edit " .. project .. "/src/helper.jl")
  local buf = vim.api.nvim_get_current_buf()
  check(vim.bo[buf].filetype == "julia", "filetype is " .. vim.bo[buf].filetype)

  local got = vim.wait(60000, function()
    return #vim.diagnostic.get(buf) > 0
  end, 50)
  check(got, "no diagnostics within 60 s")

  local diags = vim.diagnostic.get(buf)
  check(#diags == 1, "expected 1 diagnostic, got " .. #diags .. ": " .. vim.inspect(diags))
  local d = diags[1]
  check(d.code == "index-assignment", "code: " .. tostring(d.code))
  check(d.lnum == 1 and d.col == 4, ("position %d:%d"):format(d.lnum, d.col))
  check(d.end_lnum == 1 and d.end_col == 14, ("end %d:%d"):format(d.end_lnum, d.end_col))
  check(d.severity == vim.diagnostic.severity.ERROR, "severity " .. tostring(d.severity))
  check(d.source == "adlint", "source " .. tostring(d.source))
  print(("diagnostic ok: %s at %d:%d"):format(d.code, d.lnum + 1, d.col + 1))

  local params = {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    range = { start = { line = 1, character = 4 }, ["end"] = { line = 1, character = 14 } },
    context = { diagnostics = vim.lsp.diagnostic.get_line_diagnostics and vim.lsp.diagnostic.get_line_diagnostics(buf, 1) or {} },
  }
  local responses = vim.lsp.buf_request_sync(buf, "textDocument/codeAction", params, 30000)
  check(responses, "no code action response")
  local action
  for _, r in pairs(responses) do
    for _, a in ipairs(r.result or {}) do
      if a.title == "Suppress index-assignment on this line" then
        action = a
      end
    end
  end
  check(action, "no suppression action in " .. vim.inspect(responses))
  vim.lsp.util.apply_workspace_edit(action.edit, "utf-16")

  local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  local want = {
    "function helper!(x)",
    "    # adlint: ignore[index-assignment]",
    "    x[1] = 0.0",
    "    return x",
    "end",
  }
  check(vim.deep_equal(lines, want), "buffer after the action:\n" .. table.concat(lines, "\n"))
  print("code action ok")
end)

if not ok then
  fail(tostring(err))
end
vim.cmd("qall!")
