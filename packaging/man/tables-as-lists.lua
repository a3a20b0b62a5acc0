-- A manual page is read on an 80-column terminal, where tbl cannot lay out the documents'
-- wide tables (groff: "table text block will not fit on one page"). Each row becomes an
-- entry of a definition list instead: its first cell is the term, and every other cell a
-- paragraph below it, led by its column's header when there are more than two columns.
local function cell_inlines(cell)
  return pandoc.utils.blocks_to_inlines(cell.contents)
end

function Table(tbl)
  local headers = {}
  if #tbl.head.rows > 0 and #tbl.head.rows[1].cells > 2 then
    for i, cell in ipairs(tbl.head.rows[1].cells) do
      headers[i] = pandoc.utils.stringify(cell.contents)
    end
  end
  local items = {}
  for _, body in ipairs(tbl.bodies) do
    for _, row in ipairs(body.body) do
      local term = cell_inlines(row.cells[1])
      local paragraphs = {}
      for i = 2, #row.cells do
        local text = cell_inlines(row.cells[i])
        if #text > 0 then
          local para = {}
          if headers[i] and headers[i] ~= "" then
            table.insert(para, pandoc.Emph(pandoc.Str(headers[i] .. ":")))
            table.insert(para, pandoc.Space())
          end
          for _, inline in ipairs(text) do
            table.insert(para, inline)
          end
          table.insert(paragraphs, pandoc.Para(para))
        end
      end
      table.insert(items, {term, {paragraphs}})
    end
  end
  return pandoc.DefinitionList(items)
end
