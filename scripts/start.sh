#!/usr/bin/env bash
# Set everything up and start Flowdesk on its embedded default (SQLite under .data/).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

PORT=${PORT:-3000}
export PORT
python -m app.cli migrate
python -m app.cli seed-demo

reflex run --env prod --frontend-port "$PORT" --backend-port "$PORT" &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server' INT TERM

for _ in $(seq 1 300); do
  if curl -fsS -o /dev/null "http://localhost:$PORT/ping" 2>/dev/null; then
    echo
    echo "================================================================"
    echo " Flowdesk is running at http://localhost:$PORT"
    python -m app.cli login-info | sed 's/^/ /'
    echo " API reference: http://localhost:$PORT/api/v1/docs"
    echo " API key:       python -m app.cli mint-api-key   (in .venv)"
    echo "================================================================"
    break
  fi
  if ! kill -0 $server 2>/dev/null; then
    echo "the server exited during start-up" >&2
    exit 1
  fi
  sleep 1
done
wait $server
