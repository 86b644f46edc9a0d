#!/usr/bin/env bash
# Benchmarks the engine natively and in wasm under Node (figures, not a test).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
bash scripts/setup.sh
cargo build --release --quiet -p stormglass-cli
echo "== native (one core)"
./target/release/stormglass bench --repeat "${REPEAT:-7}"
bash scripts/build.sh > /dev/null
echo "== wasm under Node"
node scripts/bench-wasm.mjs --repeat "${REPEAT:-7}"
