"""No code of ours reaches into Flask-Login's or Flask-Babel's private names: they change
without notice between releases (issue 9)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIBRARIES = ("flask_login", "flask_babel")


def _private(name: str) -> bool:
    return name.startswith("_") and name != "_"  # ``_`` is Flask-Babel's public gettext alias


def _offences(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    aliases: set[str] = set()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in LIBRARIES:
            parts = (node.module or "").split(".")
            names = [a.name for a in node.names]
            if any(_private(p) for p in parts[1:]) or any(_private(n) for n in names):
                found.append(f"{where}:{node.lineno}")
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] in LIBRARIES:
                    if any(_private(p) for p in a.name.split(".")[1:]):
                        found.append(f"{where}:{node.lineno}")
                    aliases.add(a.asname or a.name.split(".")[0])
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            base = node.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name) and base.id in aliases:
                found.append(f"{where}:{node.lineno}")
    return found


def test_no_private_name_of_flask_login_or_flask_babel_is_used() -> None:
    files = [p for d in ("app", "admin", "gateway", "benchmarks", "tests") for p in (ROOT / d).rglob("*.py")]
    files += [p for p in ROOT.glob("*.py")]
    assert len(files) > 50
    offences = [o for f in files for o in _offences(f)]
    assert offences == []


def test_the_check_sees_a_private_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from flask_login.utils import _user_context_processor\nimport flask_babel\nflask_babel._get_current_context()\n"
    )
    assert len(_offences(sample)) == 2
