#!/usr/bin/env bash
# Install the system packages the test suite needs, through apt, when they are missing:
# Debian's chromium (the HTML report is opened in it, headless) and PostgreSQL (the storage
# tests run against a real server as well as SQLite). Safe to run again: it installs nothing
# that is already there. `make test` calls it; `make demo` does not need it.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "system_deps: missing ${need[*]} and no apt-get to install them" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "system_deps: installing ${need[*]} through apt"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
$SUDO apt-get install -y -q "${need[@]}" >/dev/null
