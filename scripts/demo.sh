#!/usr/bin/env bash
# The main job: set up (idempotent), build, and serve the demo on http://127.0.0.1:${PORT:-8080}/
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node www/serve.mjs --port "${PORT:-8080}"
