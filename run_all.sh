#!/usr/bin/env bash
# Set up the environment from the project's own files, then run every paper notebook (or the tests).
#
#   ./run_all.sh [--profile smoke|quick|paper] [--only GLOB] [--jobs N] [--data-dir DIR] [--demo]
#   ./run_all.sh --tests [-- PYTEST_ARGS...]
#   ./run_all.sh --site [-- BUILD_ARGS...]
#
# See usage() below; SEMIAD_PYTHON overrides the interpreter choice.
set -euo pipefail

CALLER_PWD="$(pwd)"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

KERNEL_NAME="semiad"
KERNEL_DISPLAY="Python (semiad)"
VENV="$ROOT/.venv"
HASH_FILE="$VENV/.semiad-req-hash"

usage() {
    cat <<'EOF'
Usage: ./run_all.sh [--profile smoke|quick|paper] [--only GLOB] [--jobs N] [--data-dir DIR] [--demo]
       ./run_all.sh --tests [-- PYTEST_ARGS...]
       ./run_all.sh --site [-- BUILD_ARGS...]
       ./run_all.sh --help

Runs every notebook under notebooks/<paper>/ with papermill, one after another
(python -m semiad.core.batch), writing figures/<paper>/<notebook>/, and prints a summary.
Exit status: 0 all ok, 1 some notebook failed, 2 no notebook matched / bad usage.

Options:
  --profile P      smoke (seconds per notebook), quick (default) or paper (full size)
  --demo           run on embedded demo data (outputs to outputs/<profile>-demo/, marked DEMO DATA)
  --only GLOB      only notebooks whose path below notebooks/ matches GLOB, e.g. 'deep_sad/*'
  --jobs N         worker processes inside each notebook (injected as n_jobs); with --tests: pytest
                   workers (default 2; pytest-xdist)
  --data-dir DIR   dataset folder (injected as data_dir, exported as SEMIAD_DATA_DIR)
  --tests          run the pytest suite instead of the notebooks
  --site           build the readers' site (Sphinx + myst-nb) from the committed executed notebooks
                   into _site/ (entry page _site/index.html); nothing is re-executed
  -- ARGS...       further arguments for pytest (with --tests), docs/build.py (with --site, e.g.
                   --out DIR) or python -m semiad.core.batch
  -h, --help       show this help

Interpreter: $SEMIAD_PYTHON if set; else the active python3 when it already satisfies every pin
in requirements.txt and imports semiad from this checkout; else ./.venv, created or refreshed
here (pip install -r requirements.txt; pip install -e . --no-deps). A Jupyter kernel named
'semiad' is registered for the chosen interpreter.
EOF
}

log() { printf '[semiad] %s\n' "$*"; }
die() { printf '[semiad] error: %s\n' "$*" >&2; exit 1; }
bad_usage() { printf '[semiad] %s\n\n' "$*" >&2; usage >&2; exit 2; }

# ----------------------------------------------------------------------------- arguments
PROFILE=""
DEMO=0
ONLY=""
JOBS=""
DATA_DIR=""
RUN_TESTS=0
BUILD_SITE=0
EXTRA=()

need_value() { [[ $# -ge 2 && -n "$2" ]] || bad_usage "option $1 needs a value"; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --profile) need_value "$@"; PROFILE="$2"; shift 2 ;;
        --profile=*) PROFILE="${1#*=}"; shift ;;
        --only) need_value "$@"; ONLY="$2"; shift 2 ;;
        --only=*) ONLY="${1#*=}"; shift ;;
        --jobs) need_value "$@"; JOBS="$2"; shift 2 ;;
        --jobs=*) JOBS="${1#*=}"; shift ;;
        --data-dir) need_value "$@"; DATA_DIR="$2"; shift 2 ;;
        --data-dir=*) DATA_DIR="${1#*=}"; shift ;;
        --tests) RUN_TESTS=1; shift ;;
        --site) BUILD_SITE=1; shift ;;
        --demo) DEMO=1; shift ;;
        -h | --help) usage; exit 0 ;;
        --) shift; EXTRA=("$@"); break ;;
        *) bad_usage "unknown option: $1" ;;
    esac
done

case "$PROFILE" in
    "" | smoke | quick | paper) ;;
    *) bad_usage "--profile must be smoke, quick or paper (got '$PROFILE')" ;;
esac
if [[ -n "$JOBS" && ! "$JOBS" =~ ^[1-9][0-9]*$ ]]; then
    bad_usage "--jobs must be a positive integer (got '$JOBS')"
fi
# Kernels run in the notebooks' folders: a relative SEMIAD_DATA_DIR / SEMIAD_RESULTS_DIR from the
# caller's environment would point elsewhere there, so make them absolute here.
for var in SEMIAD_DATA_DIR SEMIAD_RESULTS_DIR SEMIAD_CACHE_DIR; do
    val="${!var:-}"
    if [[ -n "$val" && "$val" != /* && "$val" != "~"* ]]; then
        export "$var=$CALLER_PWD/$val"
    fi
done
if [[ -n "$DATA_DIR" ]]; then
    [[ "$DATA_DIR" == /* ]] || DATA_DIR="$CALLER_PWD/$DATA_DIR"  # relative to the caller's cwd
    if [[ ! -d "$DATA_DIR" ]]; then
        printf '[semiad] error: --data-dir %s does not exist; fix the path, or run on demo data with --demo\n' \
            "$DATA_DIR" >&2
        exit 2
    fi
fi

# ----------------------------------------------------------------------------- interpreter
# Python >= 3.10?
py_version_ok() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' >/dev/null 2>&1
}

# Does interpreter $1 satisfy every `name==version` pin of requirements.txt? Prints what is off.
pins_ok() {
    "$1" - "$ROOT/requirements.txt" <<'PY'
import re
import sys
from importlib.metadata import PackageNotFoundError, version

problems = []
with open(sys.argv[1], encoding="utf-8") as fh:
    for raw in fh:
        line = raw.split("#", 1)[0].split(";", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(==\s*([^\s,]+))?", line)
        if not m:
            continue
        name, pin = m.group(1), m.group(4)
        try:
            have = version(name)
        except PackageNotFoundError:
            problems.append(f"{name} missing")
            continue
        # `==2.13.0` accepts a local build such as 2.13.0+cpu (PEP 440)
        if pin and have != pin and ("+" in pin or have.split("+", 1)[0] != pin):
            problems.append(f"{name} {have} != {pin}")
if problems:
    shown = ", ".join(problems[:5]) + (f" (+{len(problems) - 5} more)" if len(problems) > 5 else "")
    print(shown)
    sys.exit(1)
PY
}

# Does interpreter $1 import semiad from this checkout's lib/?
imports_checkout() {
    "$1" - "$ROOT" >/dev/null 2>&1 <<'PY'
import sys
from pathlib import Path

import semiad

here = Path(semiad.__file__).resolve()
sys.exit(0 if here.is_relative_to(Path(sys.argv[1]).resolve() / "lib") else 1)
PY
}

# Hash of what the environment is built from (requirements.txt + pyproject.toml).
req_hash() {
    "$1" - "$ROOT/requirements.txt" "$ROOT/pyproject.toml" <<'PY'
import hashlib
import sys

h = hashlib.sha256()
for path in sys.argv[1:]:
    with open(path, "rb") as fh:
        h.update(fh.read())
print(h.hexdigest())
PY
}

setup_venv() {
    local base
    base="$(command -v python3 || command -v python || true)"
    [[ -n "$base" ]] || die "no python3 on PATH; install Python >= 3.10 (or set SEMIAD_PYTHON)"
    py_version_ok "$base" || die "Python >= 3.10 is required to create .venv, but $base is \
$("$base" -c 'import platform; print(platform.python_version())' 2>/dev/null || echo unknown); \
put a newer python3 first on PATH or set SEMIAD_PYTHON"

    if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
        log "creating .venv with $base ($("$base" -c 'import platform; print(platform.python_version())'))"
        "$base" -m venv --clear "$VENV"
        rm -f "$HASH_FILE"
    fi
    PY="$VENV/bin/python"
    py_version_ok "$PY" || die ".venv has Python < 3.10; remove .venv and re-run with Python >= 3.10"

    local want have=""
    want="$(req_hash "$PY")"
    [[ -f "$HASH_FILE" ]] && have="$(cat "$HASH_FILE")"
    if [[ "$want" == "$have" ]] && pins_ok "$PY" >/dev/null && imports_checkout "$PY"; then
        log ".venv is up to date"
        return
    fi
    local off
    if off="$(pins_ok "$PY")"; then
        log ".venv satisfies requirements.txt"
    else
        log "installing requirements.txt into .venv (${off:-fresh}); this takes a few minutes ..."
        "$PY" -m pip install --disable-pip-version-check -q -r "$ROOT/requirements.txt"
        off="$(pins_ok "$PY")" || die "pins still unsatisfied after pip install: $off"
    fi
    log "installing semiad (editable) into .venv ..."
    "$PY" -m pip install --disable-pip-version-check -q --no-deps -e "$ROOT"
    imports_checkout "$PY" || die "semiad from $ROOT/lib is not importable by $PY"
    printf '%s\n' "$want" >"$HASH_FILE"
}

choose_python() {
    if [[ -n "${SEMIAD_PYTHON:-}" ]]; then
        PY="$SEMIAD_PYTHON"
        command -v "$PY" >/dev/null 2>&1 || die "SEMIAD_PYTHON=$PY is not an executable"
        py_version_ok "$PY" || die "SEMIAD_PYTHON=$PY is not Python >= 3.10"
        log "using \$SEMIAD_PYTHON: $PY"
        if ! imports_checkout "$PY"; then
            log "warning: $PY does not import semiad from this checkout; adding lib/ to PYTHONPATH"
            export PYTHONPATH="$ROOT/lib${PYTHONPATH:+:$PYTHONPATH}"
        fi
        local off
        off="$(pins_ok "$PY")" || log "warning: $PY does not match requirements.txt: $off"
        return
    fi
    local active off
    active="$(command -v python3 || true)"
    if [[ -n "$active" ]] && py_version_ok "$active" && off="$(pins_ok "$active")" \
        && imports_checkout "$active"; then
        PY="$("$active" -c 'import sys; print(sys.executable)')"
        log "using the active interpreter $PY (satisfies requirements.txt)"
        return
    fi
    setup_venv
    log "using .venv ($PY)"
}

# ----------------------------------------------------------------------------- jupyter kernel
register_kernel() {
    "$PY" -c 'import ipykernel, papermill' >/dev/null 2>&1 \
        || die "$PY lacks ipykernel/papermill: pip install -r requirements.txt (or unset SEMIAD_PYTHON)"
    # --sys-prefix into a venv/conda prefix we can write; --user otherwise.
    local where
    where="$("$PY" -c '
import os, sys
env = sys.prefix != sys.base_prefix or os.path.isdir(os.path.join(sys.prefix, "conda-meta"))
print("--sys-prefix" if env and os.access(sys.prefix, os.W_OK) else "--user")
')"
    if [[ "$where" == "--sys-prefix" ]]; then
        # Let the environment's kernel win over a same-named kernel in the user's data dir.
        export JUPYTER_PREFER_ENV_PATH=1
    fi
    log "registering Jupyter kernel '$KERNEL_NAME' ($where)"
    "$PY" -m ipykernel install "$where" --name "$KERNEL_NAME" --display-name "$KERNEL_DISPLAY" \
        >/dev/null
    # papermill runs under $PY too, so it must resolve the kernel to this very interpreter.
    "$PY" - "$KERNEL_NAME" <<'PY' || die "kernel '$KERNEL_NAME' does not resolve to $PY"
import os
import sys

from jupyter_client.kernelspec import KernelSpecManager

spec = KernelSpecManager().get_kernel_spec(sys.argv[1])
exe, me = os.path.abspath(spec.argv[0]), os.path.abspath(sys.executable)
same = exe == me or (
    os.path.dirname(exe) == os.path.dirname(me) and os.path.exists(exe) and os.path.samefile(exe, me)
)
if not same:
    print(f"[semiad] kernel {sys.argv[1]!r} runs {exe}, not {sys.executable}", file=sys.stderr)
sys.exit(0 if same else 1)
PY
}

choose_python

if [[ "$BUILD_SITE" == 1 ]]; then
    log "building the site from the committed executed notebooks: $PY docs/build.py ${EXTRA[*]-}"
    exec "$PY" "$ROOT/docs/build.py" ${EXTRA[@]+"${EXTRA[@]}"}
fi

register_kernel

export MPLBACKEND=Agg
export PYTHONUNBUFFERED=1
[[ -n "$DATA_DIR" ]] && export SEMIAD_DATA_DIR="$DATA_DIR"

if [[ "$RUN_TESTS" == 1 ]]; then
    # pytest-xdist: the notebook smoke runs are single-threaded kernels, so two workers about halve the wall
    # time on 2 cores (15 -> 8.4 min measured); worksteal keeps the long notebooks from queueing on one worker.
    TEST_ARGS=(-q -n "${JOBS:-2}" --dist worksteal)
    log "running the tests: $PY -m pytest ${TEST_ARGS[*]} ${EXTRA[*]-}"
    exec "$PY" -m pytest "${TEST_ARGS[@]}" ${EXTRA[@]+"${EXTRA[@]}"}
fi

ARGS=(--root "$ROOT" --kernel "$KERNEL_NAME")
[[ -n "$PROFILE" ]] && ARGS+=(--profile "$PROFILE")
[[ "$DEMO" == 1 ]] && ARGS+=(--demo)
[[ -n "$ONLY" ]] && ARGS+=(--only "$ONLY")
[[ -n "$JOBS" ]] && ARGS+=(--jobs "$JOBS")
[[ -n "$DATA_DIR" ]] && ARGS+=(--data-dir "$DATA_DIR")
log "running the notebooks (profile ${PROFILE:-default})"
exec "$PY" -m semiad.core.batch "${ARGS[@]}" ${EXTRA[@]+"${EXTRA[@]}"}
