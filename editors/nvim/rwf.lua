-- rwf files: start (or reuse) `rwfc lsp` for the buffer, rooted at the buffer's folder.
-- Works from Neovim 0.7 (Debian's) on: `vim.lsp.start` is used where it exists (0.8+).
-- Neovim 0.7 reads `vim.filetype.add` only with this set; later versions always do.
vim.g.do_filetype_lua = 1
vim.filetype.add({ extension = { rwf = "rwf" } })

local client_id

vim.api.nvim_create_autocmd("FileType", {
  pattern = "rwf",
  callback = function(args)
    vim.bo[args.buf].commentstring = "// %s"
    local root = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(args.buf), ":p:h")
    local config = { name = "rwfc", cmd = { "rwfc", "lsp" }, root_dir = root }
    if vim.lsp.start then
      vim.lsp.start(config)
    else
      client_id = client_id or vim.lsp.start_client(config)
      vim.lsp.buf_attach_client(args.buf, client_id)
    end
  end,
})
