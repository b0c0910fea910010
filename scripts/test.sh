#!/usr/bin/env bash
# Set up everything the tests need (dev extras, Debian chromium) and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh dev

if ! command -v chromium >/dev/null 2>&1; then
  echo "==> installing Debian chromium for the browser tests"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

echo "==> ruff"
ruff check app tests bench
echo "==> mypy (strict: app/engine, app/repo)"
mypy app/engine app/repo
echo "==> TypeScript client: npm ci, src/schema.d.ts from the spec, tsc --noEmit (venv's Node)"
(cd clients/typescript && npm ci --no-audit --no-fund --loglevel=error && npm run --silent check)
echo "==> pytest (unit, integration, acceptance, browser, scale)"
python -m pytest "$@"
