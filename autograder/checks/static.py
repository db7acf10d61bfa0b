"""Static checks on the submission's source (the engine passes its code cells joined)."""

from __future__ import annotations

import ast

FORBIDDEN = {"Adam", "AdamW", "adam", "adamw", "_functional"}
FORBIDDEN_PREFIXES = ("_single_tensor", "_multi_tensor", "_fused")


def parse_submission(source: str) -> ast.Module | None:
    """Parse the joined code cells, dropping IPython magics and shell lines; when the whole
    does not parse (a broken cell), parse each top-level block that does."""
    lines = ["" if ln.lstrip().startswith(("%", "!")) else ln for ln in source.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        pass
    body: list[ast.stmt] = []
    starts = [i for i, ln in enumerate(lines) if ln and not ln[0].isspace()
              and not ln.startswith(("#", ")", "]", "}"))] + [len(lines)]
    for a, b in zip(starts, starts[1:], strict=False):
        try:
            body += ast.parse("\n".join(lines[a:b])).body
        except SyntaxError:
            continue
    return ast.Module(body=body, type_ignores=[]) if body else None


def forbidden_references(source: str) -> list[str]:
    """Names in the ScratchAdamW class (or aliases bound to them) that reach torch's Adam."""
    tree = parse_submission(source)
    if tree is None:
        return []
    # Bare names that reach torch's Adam: the classes, and whatever an import or an alias
    # assignment binds to them. Lower-case adam/adamw count only as attributes
    # (torch.optim.adamw) or imports, so a local variable called `adam` is no offence.
    names = {"Adam", "AdamW"}

    def bad_attr(attr: str) -> bool:
        return attr in FORBIDDEN or attr.startswith(FORBIDDEN_PREFIXES)

    def bad_name(name: str) -> bool:
        return name in names or name.startswith(FORBIDDEN_PREFIXES)

    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module_bad = any(bad_attr(p) for p in (node.module or "").split("."))
            for alias in node.names:
                if module_bad or bad_attr(alias.name):
                    names.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname and any(bad_attr(p) for p in alias.name.split(".")):
                    names.add(alias.asname)
        elif isinstance(node, ast.Assign) and isinstance(node.value, (ast.Name, ast.Attribute)):
            value = node.value
            if (isinstance(value, ast.Name) and bad_name(value.id)) or (
                    isinstance(value, ast.Attribute) and bad_attr(value.attr)):
                names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    classes = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == "ScratchAdamW"]
    found = []
    for cls in classes[-1:]:
        for n in ast.walk(cls):
            if isinstance(n, ast.Name) and bad_name(n.id):
                found.append(n.id)
            elif isinstance(n, ast.Attribute) and bad_attr(n.attr):
                found.append(n.attr)
            elif isinstance(n, (ast.Import, ast.ImportFrom)):
                found += [a.name for a in n.names
                          if any(bad_attr(p) for p in [*(getattr(n, "module", "") or "").split("."),
                                                       *a.name.split(".")])]
    return found


def defines_class(source: str, name: str) -> bool:
    tree = parse_submission(source)
    return tree is not None and any(isinstance(n, ast.ClassDef) and n.name == name for n in ast.walk(tree))
