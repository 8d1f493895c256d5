"""The one table helper of the book: rows of values as a Markdown table."""

from __future__ import annotations

__all__ = ["markdown_table"]


def markdown_table(rows: list[dict], columns: list[str] | None = None) -> str:
    """A Markdown table of *rows* (dicts), one column per key of *columns* (default: the first
    row's keys). ``|`` in a cell is escaped."""
    if not rows:
        raise ValueError("rows is empty: a table needs at least one row")
    columns = list(columns or rows[0])
    for i, r in enumerate(rows):
        missing = [c for c in columns if c not in r]
        if missing:
            raise ValueError(f"row {i} has no value for column(s) {', '.join(missing)}")
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in rows:
        lines.append("| " + " | ".join(str(r[c]).replace("|", "\\|") for c in columns) + " |")
    return "\n".join(lines)
