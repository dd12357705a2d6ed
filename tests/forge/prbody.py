"""Reading a promotion PR's description as a reviewer's browser does: Markdown well-formedness and its sections."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

# CommonMark with GFM tables (and strikethrough), as GitHub and GitLab render descriptions.
_MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def _cells(line: str) -> int:
    """Cells of a raw table row as GFM splits it: on pipes not escaped with a backslash."""
    row = line.strip()
    parts = re.split(r"(?<!\\)\|", row)
    if row.startswith("|"):
        parts = parts[1:]
    if row.endswith("|") and not row.endswith("\\|"):
        parts = parts[:-1]
    return len(parts)


def check_markdown(body: str) -> list[str]:
    """Problems a reader would see: a table row with cells lost, a fence left open, <details> unbalanced."""
    problems: list[str] = []
    lines = body.split("\n")
    tokens = _MD.parse(body)
    depth = 0
    for i, tok in enumerate(tokens):
        if tok.type == "table_open" and tok.map:
            start, end = tok.map
            header = _cells(lines[start])
            for n in range(start, end):
                if n == start + 1:
                    continue  # the delimiter row
                if lines[n].strip() and _cells(lines[n]) != header:
                    problems.append(f"line {n + 1}: {_cells(lines[n])} cells in a table of {header}: {lines[n]!r}")
            # markdown-it agrees on the shape: every row has the header's cell count.
            row_cells = 0
            for t in tokens[i:]:
                if t.type == "table_close":
                    break
                if t.type == "tr_open":
                    row_cells = 0
                elif t.type in ("th_open", "td_open"):
                    row_cells += 1
                elif t.type == "tr_close" and row_cells != header:
                    problems.append(f"table at line {start + 1}: a row of {row_cells} cells, header {header}")
        if tok.type == "fence" and tok.map:
            last = lines[tok.map[1] - 1].strip() if tok.map[1] - 1 < len(lines) else ""
            if tok.map[1] - tok.map[0] < 2 or not last.startswith(tok.markup) or last.strip("`~") != "":
                problems.append(f"line {tok.map[0] + 1}: a code fence that is never closed")
        if tok.type in ("html_block", "inline"):
            text = tok.content
            depth += text.count("<details>") - text.count("</details>")
            if depth < 0:
                problems.append(f"line {(tok.map or [0])[0] + 1}: </details> without <details>")
                depth = 0
    if depth:
        problems.append(f"{depth} <details> never closed")
    marker = [t for t in tokens if t.type == "html_block" and "<!-- promoter:" in t.content]
    if not marker:
        problems.append("the promoter marker is not an HTML comment block of its own (swallowed by a fence?)")
    return problems


def rendered_html(body: str) -> str:
    return _MD.render(body)


def section(body: str, title: str) -> str:
    """The text of `### title` up to the next heading of the same level (or the marker)."""
    m = re.search(rf"^### {re.escape(title)}.*?$", body, re.MULTILINE)
    if m is None:
        return ""
    rest = body[m.end() :]
    end = re.search(r"^(### |<!-- promoter:)", rest, re.MULTILINE)
    return rest[: end.start()] if end else rest


def diff_files(body: str, title: str = "File changes") -> list[str]:
    """Paths the diff of a section shows (`+++ b/path`, or `--- a/path` for a removed file)."""
    text = section(body, title)
    out = []
    for m in re.finditer(r"^--- (?:a/(\S+)|/dev/null)\n\+\+\+ (?:b/(\S+)|/dev/null)$", text, re.MULTILINE):
        out.append(m.group(2) or m.group(1))
    return sorted(out)
