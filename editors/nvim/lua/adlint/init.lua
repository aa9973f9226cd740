-- adlint language server for Neovim.
--
--   require("adlint").setup({ cmd = { "adlint", "lsp" } })
--
-- On Neovim 0.11+ this uses vim.lsp.config / vim.lsp.enable with root markers
-- Project.toml and .git. On older versions (Debian's 0.7.2 included) it starts the client
-- from a FileType autocommand with vim.lsp.start_client and attaches every Julia buffer
-- below the same root to it.
local M = {}

local function default_cmd()
  local env = vim.env.ADLINT_LSP_CMD
  if env and env ~= "" then
    return vim.split(env, "%s+", { trimempty = true })
  end
  return { "adlint", "lsp" }
end

local function find_root(path)
  local dir = vim.fn.fnamemodify(path, ":p:h")
  while dir and dir ~= "" do
    if vim.fn.filereadable(dir .. "/Project.toml") == 1 or vim.fn.isdirectory(dir .. "/.git") == 1 then
      return dir
    end
    local parent = vim.fn.fnamemodify(dir, ":h")
    if parent == dir then
      break
    end
    dir = parent
  end
  return vim.fn.fnamemodify(path, ":p:h")
end

function M.setup(opts)
  opts = opts or {}
  local cmd = opts.cmd or default_cmd()

  if vim.lsp.config and vim.lsp.enable then
    vim.lsp.config("adlint", {
      cmd = cmd,
      filetypes = { "julia" },
      root_markers = { "Project.toml", ".git" },
      settings = opts.settings or {},
    })
    vim.lsp.enable("adlint")
    return
  end

  -- Neovim < 0.11: one client per root, started on the first Julia buffer below it.
  local clients = {}
  vim.api.nvim_create_autocmd("FileType", {
    pattern = "julia",
    callback = function(args)
      local name = vim.api.nvim_buf_get_name(args.buf)
      if name == "" then
        return
      end
      local root = find_root(name)
      local id = clients[root]
      if not id or not vim.lsp.get_client_by_id(id) then
        id = vim.lsp.start_client({
          name = "adlint",
          cmd = cmd,
          root_dir = root,
          workspace_folders = { { uri = vim.uri_from_fname(root), name = root } },
          on_exit = function()
            clients[root] = nil
          end,
        })
        clients[root] = id
      end
      if id then
        vim.lsp.buf_attach_client(args.buf, id)
      end
    end,
  })
end

return M
