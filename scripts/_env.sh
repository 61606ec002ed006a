# Shared by scripts/demo and scripts/test: a virtualenv in .venv with the project's dependencies.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY_BOOT=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY_BOOT" -m venv .venv
fi
PY="$ROOT/.venv/bin/python"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"

install_deps() {  # install_deps [extra...]: dependencies from pyproject.toml pinned by requirements.lock, never the project itself
  local stamp=".venv/.deps-$(cat pyproject.toml requirements.lock 2>/dev/null | sha1sum | cut -c1-12)-$*"
  stamp=${stamp// /_}
  [ -f "$stamp" ] && return 0
  "$PY" - "$@" > .venv/requirements.txt <<'PYEOF'
import sys, tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
deps = list(project["dependencies"])
for extra in sys.argv[1:]:
    deps += project.get("optional-dependencies", {}).get(extra, [])
print("\n".join(deps))
PYEOF
  # The lock (scripts/lock-deps) pins every version, transitive ones too.
  local lock=()
  [ -f requirements.lock ] && lock=(-c requirements.lock)
  "$PY" -m pip install -q --disable-pip-version-check -r .venv/requirements.txt "${lock[@]}"
  touch "$stamp"
}
