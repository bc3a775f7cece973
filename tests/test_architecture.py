"""ARCHITECTURE.md: imports point one way, remittance → members → employers → approvals → gjj_portal.

Only the composing top (gjj_portal's urls, the home page, the 打印 download view and the demo command)
may import every app. A test, so that a convenient import across the line fails here first."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ORDER = ["gjj_portal", "approvals", "employers", "members", "remittance"]
TOP = {"gjj_portal/urls.py", "gjj_portal/views.py", "gjj_portal/printing/views.py", "gjj_portal/management/commands/demo.py"}


def imported_modules(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module, node.lineno


def test_imports_point_one_way():
    rank = {app: index for index, app in enumerate(ORDER)}
    wrong = []
    for app in ORDER:
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if relative in TOP or "/migrations/" in relative:
                continue
            for module, line in imported_modules(path):
                target = module.split(".")[0]
                if target in rank and rank[target] > rank[app]:
                    wrong.append(f"{relative}:{line} imports {module}")
    assert wrong == []


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _project_imports(path: Path, modules: set[str]):
    """The project modules a file imports, at the top or inside a function, relative imports resolved."""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != _module_name(path):
                yield name


def test_no_import_circle():
    """No two modules of the apps import each other, directly or round a loop (imports inside functions count)."""
    paths = [p for app in ORDER for p in (ROOT / app).rglob("*.py") if "/migrations/" not in p.as_posix()]
    modules = {_module_name(p) for p in paths}
    graph = {_module_name(p): set(_project_imports(p, modules)) for p in paths}
    # a package's __init__ re-exporting its modules is not a dependency of those modules on it
    graph = {m: {t for t in targets if not m.startswith(t + ".")} for m, targets in graph.items()}
    index, low, stack, on_stack, circles, counter = {}, {}, [], set(), [], [0]

    def visit(node):  # Tarjan's strongly connected components
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    assert circles == []
