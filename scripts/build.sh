#!/usr/bin/env bash
# Builds the browser bundle: web/ (Rust) -> wasm -> www/pkg/ (wasm-bindgen glue + optimised wasm).
#
#   cargo build (wasm32, release) -> wasm-bindgen --target web -> wasm-opt -O3 -> smoke check
#
# The bindgen and wasm-opt steps are skipped when the wasm cargo produced has not changed since
# the last build, so a second run takes seconds. Prints the sizes: raw, optimised, gzipped.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
# wasm-opt from the pinned npm package binaryen: Debian's older binaryen (108) rewrites the
# externref table that wasm-bindgen output needs (its "__wbindgen_externrefs" export ends up
# naming the function table), and the module then fails to instantiate.
wasm_opt="node_modules/.bin/wasm-opt"

say() { printf '[build] %s\n' "$*"; }

[ -x "$wasm_opt" ] || { echo "[build] $wasm_opt is missing: run bash scripts/setup.sh (npm ci)" >&2; exit 1; }

target_dir="${CARGO_TARGET_DIR:-target}"
raw_wasm="$target_dir/wasm32-unknown-unknown/release/stormglass_web.wasm"
out_dir="www/pkg"
out_wasm="$out_dir/stormglass_web_bg.wasm"
stamp="$out_dir/.built-from"

cargo build --release -p stormglass-web --target wasm32-unknown-unknown

# What the output depends on: the raw wasm, the tool versions and this script's steps.
fingerprint=$( {
  sha256sum "$raw_wasm" | cut -d' ' -f1
  wasm-bindgen --version
  "$wasm_opt" --version
  sha256sum "$0" | cut -d' ' -f1
} | sha256sum | cut -d' ' -f1 )

if [ -f "$out_wasm" ] && [ -f "$out_dir/stormglass_web.js" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$fingerprint" ]; then
  say "wasm unchanged; www/pkg is up to date"
else
  say "wasm-bindgen --target web"
  rm -rf "$out_dir"
  wasm-bindgen --target web --no-typescript --out-dir "$out_dir" "$raw_wasm"
  say "wasm-opt -O3"
  # wasm-opt refuses wasm-bindgen output unless told the features Rust's output uses.
  "$wasm_opt" -O3 \
    --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    -o "$out_wasm.opt" "$out_wasm"
  mv "$out_wasm.opt" "$out_wasm"
  # Fail here, not in the browser, if the optimised bundle cannot even start.
  if ! node --input-type=module -e "
    import { readFileSync } from 'node:fs';
    const glue = await import('./$out_dir/stormglass_web.js');
    glue.initSync({ module: readFileSync('$out_wasm') });
    const digest = glue.run_digest(glue.presets()[0].json);
    if (!/^[0-9a-f]{16}\$/.test(digest)) throw new Error('unexpected digest ' + digest);
  "; then
    rm -rf "$out_dir"
    echo "[build] the built wasm failed its smoke check (instantiate, run a preset)" >&2
    exit 1
  fi
  echo "$fingerprint" > "$stamp"
fi

size_of() { wc -c < "$1" | tr -d ' '; }
raw_bytes=$(size_of "$raw_wasm")
opt_bytes=$(size_of "$out_wasm")
gzip_bytes=$(gzip -9 -c "$out_wasm" | wc -c | tr -d ' ')
say "wasm size: raw (cargo) ${raw_bytes} B, after wasm-bindgen + wasm-opt -O3 ${opt_bytes} B, gzipped ${gzip_bytes} B"
