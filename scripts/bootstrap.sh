# Sourced by scripts/test and scripts/dashboard: everything a fresh machine needs, idempotent.
# Sets PYTHON313 and UV, installs the system packages the tests use, and syncs .venv from uv.lock.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="$REPO_ROOT/.tmp/bootstrap"
SYSTEM_PACKAGES=(docker.io debootstrap docker-registry skopeo chromium chromium-driver jq)

say() { printf '\033[1m[bootstrap]\033[0m %s\n' "$*" >&2; }
die() { printf '[bootstrap] error: %s\n' "$*" >&2; exit 1; }

find_python313() {
  local candidate
  for candidate in "${PYTHON313:-}" python3.13 /usr/bin/python3.13 /usr/local/bin/python3.13; do
    [ -n "$candidate" ] || continue
    if "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    for candidate in "$(pyenv root)"/versions/3.13*/bin/python3.13; do
      [ -x "$candidate" ] && { echo "$candidate"; return 0; }
    done
  fi
  return 1
}

install_system_packages() {
  # BOOTSTRAP_SYSTEM_PACKAGES=0: the machine provides its own (e.g. a CI runner running only E2E).
  [ "${BOOTSTRAP_SYSTEM_PACKAGES:-1}" = 0 ] && return 0
  local missing=()
  for package in "${SYSTEM_PACKAGES[@]}"; do
    # A machine with another Docker engine (docker-ce on CI runners) keeps it: the packages conflict.
    if [ "$package" = docker.io ] && command -v dockerd >/dev/null 2>&1; then continue; fi
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "missing system packages: ${missing[*]} (run as root or install them)"
  say "installing system packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_uv() {
  UV="$TOOLS_DIR/bin/uv"
  local wanted
  wanted="$(sed -n 's/^uv==\([^ ]*\).*/\1/p' "$REPO_ROOT/scripts/bootstrap-requirements.txt")"
  if [ -x "$UV" ] && "$UV" --version | grep -q " $wanted"; then return 0; fi
  say "installing uv $wanted into .tmp/bootstrap"
  "$PYTHON313" -m venv --clear "$TOOLS_DIR"
  "$TOOLS_DIR/bin/pip" install -q --require-hashes --no-deps \
    -r "$REPO_ROOT/scripts/bootstrap-requirements.txt"
}

bootstrap() {
  PYTHON313="$(find_python313)" || die "CPython 3.13 not found (Lambda's runtime): install python3.13"
  export PYTHON313
  install_system_packages
  install_uv
  say "syncing .venv from uv.lock"
  (cd "$REPO_ROOT" && UV_PYTHON="$PYTHON313" "$UV" sync --locked --quiet)
}
