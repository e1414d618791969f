-- rwf files: start (or reuse) `rwfc lsp` for the buffer, rooted at the nearest git repository.
vim.filetype.add({ extension = { rwf = "rwf" } })

vim.api.nvim_create_autocmd("FileType", {
  pattern = "rwf",
  callback = function(args)
    vim.bo[args.buf].commentstring = "// %s"
    vim.lsp.start({
      name = "rwfc",
      cmd = { "rwfc", "lsp" },
      root_dir = vim.fs.root(args.buf, { ".git" }) or vim.fs.dirname(vim.api.nvim_buf_get_name(args.buf)),
    })
  end,
})
