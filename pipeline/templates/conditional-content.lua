-- Quarto's conditional content, for the built-in renderer (docs/rendering.md):
--   ::: {.content-visible when-format="html"}    shown only in that format
--   ::: {.content-visible unless-format="html"}  shown in every other format
--   ::: {.content-hidden when-format="html"}     hidden only in that format
--   ::: {.content-hidden unless-format="html"}   hidden in every other format
-- As in Quarto, a shown div is unwrapped (its content stays, the div goes) and "html" names
-- every HTML writer. Quarto's other conditions (when-meta, when-profile) are not implemented:
-- a div using one stops the build rather than showing what Quarto might hide.

local function is_format(name)
  if name == "html" then
    return FORMAT:match("^html") ~= nil
  end
  return FORMAT == name
end

local KNOWN = { ["when-format"] = true, ["unless-format"] = true }

function Div(div)
  local visible = div.classes:includes("content-visible")
  local hidden = div.classes:includes("content-hidden")
  if not (visible or hidden) then
    return nil
  end
  for key, _ in pairs(div.attributes) do
    if key:match("^when%-") or key:match("^unless%-") then
      if not KNOWN[key] then
        error("conditional content: " .. key .. " is not supported by the built-in renderer")
      end
    end
  end
  local matches = true
  local when, unless = div.attributes["when-format"], div.attributes["unless-format"]
  if when then
    matches = is_format(when)
  elseif unless then
    matches = not is_format(unless)
  end
  local shown = (visible and matches) or (hidden and not matches)
  if shown then
    return div.content
  end
  return {}
end
