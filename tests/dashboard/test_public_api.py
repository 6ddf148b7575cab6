"""The dashboard is a client of the library's public API: `import viz_core as vc` and `vc.figures`."""
from __future__ import annotations

import ast
from pathlib import Path

import viz_core as vc

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"


def _problems(path: Path, root: Path = DASHBOARD.parent) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):  # `import viz_core as vc` only, and no torch: pages hold no tensor code
            found += [f"import {a.name}" for a in node.names if a.name.startswith("viz_core") and (a.name != "viz_core" or a.asname != "vc")]
            found += ["import torch" for a in node.names if a.name.split(".")[0] == "torch"]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("viz_core"):
            found.append(f"from {node.module} import …")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "vc" and node.attr not in vc.__all__:
            found.append(f"vc.{node.attr}")
    return [f"{path.relative_to(root)}: {problem}" for problem in found]


def test_dashboard_imports_only_the_public_api() -> None:
    files = sorted(DASHBOARD.rglob("*.py"))
    assert len(files) > 10
    problems = [problem for path in files for problem in _problems(path)]
    assert not problems, "private viz_core use in the dashboard:\n" + "\n".join(problems)


def test_the_check_catches_private_imports(tmp_path: Path) -> None:
    page = tmp_path / "page.py"
    page.write_text("from viz_core.layers import token_grid\nimport viz_core as vc\nimport torch\nvc.hub\nvc.backprop\n")
    assert len(_problems(page, tmp_path)) == 3
