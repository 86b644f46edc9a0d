#!/usr/bin/env bash
# `npm start`: installs what is missing, builds the site, and serves it on 127.0.0.1.
# PORT chooses the port (default 8080).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
port="${PORT:-8080}"
echo
echo "Stormglass is at http://127.0.0.1:${port}/  (Ctrl-C stops it)"
echo
PORT="$port" exec node scripts/serve.mjs
