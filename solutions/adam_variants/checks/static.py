"""Parsing the submission's source (the engine passes its code cells joined)."""

from __future__ import annotations

import ast


def parse_submission(source: str) -> ast.Module | None:
    """Parse the joined code cells, dropping IPython magics and shell lines; when the whole
    does not parse (a broken cell), parse each top-level block that does."""
    lines = ["" if ln.lstrip().startswith(("%", "!")) else ln for ln in source.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        pass
    body: list[ast.stmt] = []
    starts = [
        i
        for i, ln in enumerate(lines)
        if ln and not ln[0].isspace() and not ln.startswith(("#", ")", "]", "}"))
    ] + [len(lines)]
    for a, b in zip(starts, starts[1:], strict=False):
        try:
            body += ast.parse("\n".join(lines[a:b])).body
        except SyntaxError:
            continue
    return ast.Module(body=body, type_ignores=[]) if body else None


def defines_class(source: str, name: str) -> bool:
    """Whether the code cells hold a class statement for ``name``."""
    tree = parse_submission(source)
    return tree is not None and any(
        isinstance(n, ast.ClassDef) and n.name == name for n in ast.walk(tree)
    )
