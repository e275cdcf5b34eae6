#!/usr/bin/env bash
# The main job: set up (idempotent), build the demo site with Vite (www/ -> www/dist), and serve it
# on http://127.0.0.1:${PORT:-8080}/ (www/serve.mjs prints the URL).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node_modules/.bin/vite build --config www/vite.config.js
exec node www/serve.mjs --port "${PORT:-8080}" --dir www/dist
