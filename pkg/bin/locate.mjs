// Where a config field is written in its file, for output that points at a line (the text
// format and SARIF regions): each key of the path is looked for after the one before it, quoted
// (JSON) or not (an ES module). A field left to its default is not written anywhere: its nearest
// written parent's line, or the file's first line.
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The 1-based line of `path` (`budget.ratio`, `routes[1].url`) in `text`. */
export function lineOf(text, path) {
  if (typeof text !== "string") return 1;
  const keys = path.split(".").map((k) => k.replace(/\[\d+\]$/, "")).filter(Boolean);
  let from = 0;
  let found = -1;
  for (const key of keys) {
    const re = new RegExp(`(["']?)${escape(key)}\\1\\s*:`, "g");
    re.lastIndex = from;
    const m = re.exec(text);
    if (!m) break;
    found = m.index;
    from = m.index + m[0].length;
  }
  return found < 0 ? 1 : text.slice(0, found).split("\n").length;
}
