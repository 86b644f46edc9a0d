#!/usr/bin/env bash
# Runs every test: native Rust tests (with the tidy test of the style rules), the no_std core
# builds for wasm32 and a bare-metal target, the wasm build under Node (digests equal the native
# ones), and the browser tests against the built site.
# Installs what is missing first (scripts/setup.sh), so a fresh clone needs only `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

step() { printf '\n== %s\n' "$*"; }

step "setup"
bash scripts/setup.sh --browser

step "format and lints (rustfmt, clippy)"
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "native tests (cargo test --workspace)"
cargo test --workspace --quiet

step "the core builds without std for wasm32"
cargo build --quiet -p stormglass-core --no-default-features --target wasm32-unknown-unknown

step "the core builds without std for a bare-metal target (no OS at all)"
cargo build --quiet -p stormglass-core --no-default-features --target thumbv7em-none-eabihf

step "build the site (wasm + www)"
bash scripts/build.sh

step "wasm tests under Node (determinism against the native golden digests, typed errors)"
node --test tests/wasm/

step "browser tests (Playwright + Chromium)"
npx playwright test

printf '\nall tests passed\n'
