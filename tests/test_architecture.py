"""ARCHITECTURE.md: imports point one way, remittance → members → approvals → employers → gjj_portal.

Only the composing top (gjj_portal's urls, the home page, the 打印 download view and the demo command)
may import every app. A test, so that a convenient import across the line fails here first."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ORDER = ["gjj_portal", "employers", "approvals", "members", "remittance"]
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
