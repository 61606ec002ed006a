"""No code of ours reaches into Flask-Login's or Flask-Babel's private names: they change
without notice between releases (issue 9).

Two checks: no import of a private name (``from flask_login.utils import _get_user``,
``flask_babel._get_current_context()``), and no reference anywhere in app/ or admin/ to a
name the installed libraries keep to themselves, read from their source: their private
functions and classes, the private attributes they set (``g._login_user``,
``g._flask_babel``) and the private keys they use (``session["_user_id"]``), whether
written as an attribute, a name or a string (``g.pop("_login_user")``)."""

from __future__ import annotations

import ast
import importlib.util
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIBRARIES = ("flask_login", "flask_babel")
# Where a reference to a library's private name counts as an offence (the import check
# runs over more of the tree).
OWN_CODE = ("app", "admin")


def _private(name: str) -> bool:
    return name.startswith("_") and name != "_"  # ``_`` is Flask-Babel's public gettext alias


def _own_private(name: str) -> bool:
    return _private(name) and not name.startswith("__") and name.isidentifier()


@cache
def library_private_names() -> frozenset[str]:
    """Private names the installed Flask-Login and Flask-Babel define or set: functions,
    classes, attributes they assign and string keys they use (on ``g`` or the session).
    Names they only read from other libraries (werkzeug's ``_get_current_object``) are
    not theirs."""
    names: set[str] = set()
    for library in LIBRARIES:
        spec = importlib.util.find_spec(library)
        assert spec is not None and spec.origin, library
        for path in Path(spec.origin).parent.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    candidate = node.name
                elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store | ast.Del):
                    candidate = node.attr
                elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                    candidate = node.value
                else:
                    continue
                if _own_private(candidate):
                    names.add(candidate)
    return frozenset(names)


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


def _references(path: Path) -> list[str]:
    """Every mention of a library's private name in ``path``: attribute, name or string."""
    private = library_private_names()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            name = node.attr
        elif isinstance(node, ast.Name):
            name = node.id
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            name = node.value
        else:
            continue
        if name in private:
            found.append(f"{where}:{node.lineno}: {name}")
    return found


def _own_files() -> list[Path]:
    return [p for d in OWN_CODE for p in (ROOT / d).rglob("*.py")]


def test_no_private_name_of_flask_login_or_flask_babel_is_used() -> None:
    files = [p for d in ("app", "admin", "gateway", "benchmarks", "tests") for p in (ROOT / d).rglob("*.py")]
    files += [p for p in ROOT.glob("*.py")]
    assert len(files) > 50
    offences = [o for f in files for o in _offences(f)]
    assert offences == []


def test_no_private_name_of_flask_login_or_flask_babel_is_referenced() -> None:
    files = _own_files()
    assert len(files) > 50
    references = [r for f in files for r in _references(f)]
    assert references == []


def test_the_library_names_include_the_caches_on_g_and_the_session_keys() -> None:
    private = library_private_names()
    assert {"_login_user", "_user_id", "_flask_babel", "_get_current_context", "_load_user"} <= private
    # Only read by the libraries, defined by werkzeug (and public there).
    assert "_get_current_object" not in private


def test_the_check_sees_a_private_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from flask_login.utils import _user_context_processor\nimport flask_babel\nflask_babel._get_current_context()\n"
    )
    assert len(_offences(sample)) == 2


def test_the_check_sees_the_cached_user_popped_from_g(tmp_path: Path) -> None:
    # The hook app/__init__.py had until issue 9: ``g.pop("_login_user", None)``.
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from flask import g, session\n"
        "def forget():\n"
        "    g.pop('_login_user', None)\n"
        "    user = g._login_user\n"
        "    return session.get('_user_id'), getattr(g, '_flask_babel', None)\n"
    )
    assert [r.split(": ")[1] for r in _references(sample)] == ["_login_user", "_login_user", "_user_id", "_flask_babel"]
