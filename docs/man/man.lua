-- Pandoc filter for the man pages made from docs/*.md: the page's own first heading is the
-- man page's title (dropped), its sections move up one level (## -> .SH), and links to other
-- pages keep their text only (a man page cannot follow them).
function Header(h)
  if h.level == 1 and h.identifier ~= "name" then
    return {}
  end
  if h.level > 1 then
    h.level = h.level - 1
  end
  return h
end

function Link(l)
  if not l.target:match("^https?:") then
    return l.content
  end
end

-- Tables become definition lists: the first column is the term, each other cell a paragraph
-- led by its column's heading. tbl cannot fit the docs' wide tables into a terminal's width.
local function inlines(blocks)
  local out = pandoc.List()
  for _, b in ipairs(blocks) do
    if b.content then
      if #out > 0 then
        out:insert(pandoc.Space())
      end
      out:extend(b.content)
    end
  end
  return out
end

function Table(t)
  local head = (t.head.rows[1] or {}).cells or {}
  local items = pandoc.List()
  for _, body in ipairs(t.bodies) do
    for _, row in ipairs(body.body) do
      local defs = pandoc.List()
      for j = 2, #row.cells do
        local text = inlines(row.cells[j].contents)
        if #text > 0 then
          local label = head[j] and pandoc.utils.stringify(head[j].contents) or ""
          local para = pandoc.List()
          if label ~= "" then
            para:insert(pandoc.Emph({pandoc.Str(label .. ":")}))
            para:insert(pandoc.Space())
          end
          para:extend(text)
          defs:insert(pandoc.Para(para))
        end
      end
      items:insert({inlines(row.cells[1].contents), {defs}})
    end
  end
  return pandoc.DefinitionList(items)
end
