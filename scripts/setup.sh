#!/usr/bin/env bash
# Installs what the build and the tests need, and nothing that is already there.
# Idempotent: every step checks first (tool present, exact version), so a second run takes
# seconds. Usage: scripts/setup.sh [--browser]   (--browser: also Chromium, for the tests)
set -euo pipefail
cd "$(dirname "$0")/.."

want_browser=no
[ "${1:-}" = "--browser" ] && want_browser=yes

say() { printf '[setup] %s\n' "$*"; }
have() { command -v "$1" >/dev/null 2>&1; }

# The wasm-bindgen CLI must match the crate version pinned with `=` in Cargo.toml.
bindgen_version=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)"/\1/p' Cargo.toml)
[ -n "$bindgen_version" ] || { echo "[setup] cannot read the pinned wasm-bindgen version from Cargo.toml" >&2; exit 1; }

export PATH="$HOME/.cargo/bin:$PATH"
have cargo || { echo "[setup] cargo is missing: install Rust with rustup (https://rustup.rs) and run again" >&2; exit 1; }

# wasm32 for the site; a bare-metal Cortex-M target to check that the core needs no OS at all.
for target in wasm32-unknown-unknown thumbv7em-none-eabihf; do
  if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
    say "adding the $target target"
    rustup target add "$target"
  fi
done

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$bindgen_version" ]; then
  say "installing wasm-bindgen-cli $bindgen_version (once; takes a few minutes)"
  # Not --locked: a locked dependency of the CLI may be missing from the reachable registry.
  cargo install wasm-bindgen-cli --version "$bindgen_version"
fi

apt_packages=()
if [ "$want_browser" = yes ] && [ ! -x /usr/bin/chromium ]; then
  apt_packages+=(chromium)
fi
if [ ${#apt_packages[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && have apt-get; then
    say "installing ${apt_packages[*]} from Debian's packages"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_packages[@]}" >/dev/null
  else
    echo "[setup] please install these packages (Debian/Ubuntu: sudo apt-get install ${apt_packages[*]}) and run again" >&2
    exit 1
  fi
fi

# npm packages: reinstall only when package-lock.json changed since the last install.
mkdir -p .stamps
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -d node_modules ] || [ "$(cat .stamps/npm-ci 2>/dev/null)" != "$lock_hash" ]; then
  say "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > .stamps/npm-ci
fi
