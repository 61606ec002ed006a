"""requirements.lock pins every dependency of pyproject.toml (and its extras) to a version
that satisfies pyproject's range, so CI and deployments install what was tested."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, sep, version = line.partition("==")
        assert sep and version, f"not pinned: {line}"
        pins[canonicalize_name(name)] = version.strip()
    return pins


def test_every_dependency_is_pinned_within_its_range() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"]) + [d for extra in project["optional-dependencies"].values() for d in extra]
    pins = _lock()
    for spec in wanted:
        req = Requirement(spec)
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is missing from requirements.lock: run scripts/lock-deps"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"{req.name}=={pins[name]} is outside {req.specifier}"
        )


def test_install_deps_uses_the_lock() -> None:
    env = (ROOT / "scripts" / "_env.sh").read_text()
    assert "-c requirements.lock" in env and "requirements.lock" in env.split("stamp=", 1)[1].split("\n", 1)[0]
