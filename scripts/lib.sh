# Shared by scripts/demo, scripts/test and scripts/build-widget: numbered steps, a clear
# message naming the step that failed, and idempotent installation of every tool the
# project needs (docs/toolchain.md explains the versions and the traps).
# shellcheck shell=bash

set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

TRUNK_VERSION=0.21.14
export PATH="$ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export TRUNK_SKIP_VERSION_CHECK=true
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-auto}"

CURRENT_STEP="starting"
STEP_NUMBER=0

step() {
  STEP_NUMBER=$((STEP_NUMBER + 1))
  CURRENT_STEP="$*"
  printf '\n\033[1m==> [%d] %s\033[0m\n' "$STEP_NUMBER" "$*"
}

note() {
  printf '    %s\n' "$*"
}

on_error() {
  local status=$?
  printf '\n\033[1;31mFAILED at step [%d] "%s" (exit %d).\033[0m\n' "$STEP_NUMBER" "$CURRENT_STEP" "$status" >&2
  exit "$status"
}
trap on_error ERR

# Runs a command as root: directly when we are root, through sudo otherwise.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root for: $*" >&2
    return 1
  fi
}

ensure_wasm_target() {
  step "Rust wasm32 target"
  if rustup target list --installed | grep -qx wasm32-unknown-unknown; then note "installed"; else
    rustup target add wasm32-unknown-unknown
  fi
}

# The release build rebuilds std for size (scripts/build-widget), which needs its sources.
ensure_rust_src() {
  step "Rust standard library sources (rust-src)"
  if rustup component list --installed | grep -q '^rust-src'; then note "installed"; else
    rustup component add rust-src
  fi
}

ensure_trunk() {
  step "trunk $TRUNK_VERSION"
  if [ "$(trunk --version 2>/dev/null)" = "trunk $TRUNK_VERSION" ]; then note "installed"; else
    note "building from crates.io (about 5 minutes)"
    cargo install --locked "trunk@$TRUNK_VERSION"
  fi
}

# wasm-bindgen CLI (and wasm-bindgen-test-runner) at exactly the version Cargo.lock uses.
ensure_wasm_bindgen() {
  local version
  version="$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"$/\1/p')"
  step "wasm-bindgen CLI $version"
  if [ "$(wasm-bindgen --version 2>/dev/null)" = "wasm-bindgen $version" ] && command -v wasm-bindgen-test-runner >/dev/null; then
    note "installed"
  else
    # Not --locked: its lockfile wants a crate version this registry lacks (toolchain.md).
    cargo install "wasm-bindgen-cli@$version"
  fi
}

# wasm-opt 132 (binaryen from npm, NOT Debian's), terser, playwright-core and standardwebhooks
# (the end-to-end tests verify webhook signatures with it), from package-lock.json.
ensure_node_tools() {
  step "Node tools: wasm-opt (binaryen 132), terser, playwright-core, standardwebhooks"
  if [ -x node_modules/.bin/wasm-opt ] && [ -d node_modules/terser ] && [ -d node_modules/playwright-core ] &&
    [ -d node_modules/standardwebhooks ] &&
    [ "$(node_modules/.bin/wasm-opt --version)" = "wasm-opt version 132 (version_132)" ]; then
    note "installed"
  else
    npm ci --no-audit --no-fund
  fi
  note "$(command -v wasm-opt): $(wasm-opt --version)"
}

# rustfmt and clippy, for the lint gates of scripts/test.
ensure_lint_tools() {
  step "rustfmt and clippy"
  if rustup component list --installed | grep -q '^rustfmt' && rustup component list --installed | grep -q '^clippy'; then note "installed"; else
    rustup component add rustfmt clippy
  fi
}

# PostgreSQL from Debian's packages: the proxy's suite runs on it too (docs/deploy.md).
ensure_postgres() {
  step "PostgreSQL server (Debian's postgresql)"
  # openssl makes the test cluster's CA and certificate (the TLS test needs them).
  if ! compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || ! command -v openssl >/dev/null; then
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql openssl
  fi
  PG_BIN="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  note "$("$PG_BIN/postgres" --version)"
}

# Runs a command as the `postgres` user when we are root (initdb and the server refuse root),
# as ourselves otherwise.
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$(printf '%q ' "$@")"; else "$@"; fi
}

# Starts a throwaway PostgreSQL cluster on a free loopback port and exports its admin URL as
# EPAY_TEST_POSTGRES (each test makes a database of its own on it). The cluster is stopped
# and its directory removed when the script exits, whatever happens.
start_throwaway_postgres() {
  ensure_postgres
  step "Throwaway PostgreSQL cluster"
  PG_DIR="$(mktemp -d /tmp/epay-test-pg.XXXXXX)"
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$PG_DIR"; fi
  local port
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  trap stop_throwaway_postgres EXIT
  as_postgres "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U postgres --no-sync >"$PG_DIR/initdb.log"
  # TLS with a CA of its own (the proxy's test of sslmode=require verifies the certificate).
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=epay test CA" \
    -keyout "$PG_DIR/ca.key" -out "$PG_DIR/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$PG_DIR/server.key" -out "$PG_DIR/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >"$PG_DIR/server.ext"
  openssl x509 -req -in "$PG_DIR/server.csr" -CA "$PG_DIR/ca.crt" -CAkey "$PG_DIR/ca.key" -CAcreateserial -days 2 \
    -extfile "$PG_DIR/server.ext" -out "$PG_DIR/server.crt" 2>/dev/null
  cp "$PG_DIR/server.crt" "$PG_DIR/server.key" "$PG_DIR/data/"
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$PG_DIR/data/server.crt" "$PG_DIR/data/server.key"; fi
  chmod 600 "$PG_DIR/data/server.key"
  export EPAY_TEST_POSTGRES_CA="$PG_DIR/ca.crt"
  as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
    -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=400 -c ssl=on" start >/dev/null
  export EPAY_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/postgres"
  note "listening on 127.0.0.1:$port ($PG_DIR), TLS with a CA of its own"
}

stop_throwaway_postgres() {
  if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR" ]; then
    as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
}

ensure_chromium() {
  step "Chromium and chromedriver"
  if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then note "installed"; else
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver
  fi
  note "$(chromium --version)"
}

# Everything the widget's release build needs.
ensure_widget_tools() {
  ensure_wasm_target
  ensure_rust_src
  ensure_trunk
  ensure_wasm_bindgen
  ensure_node_tools
}

# Builds the widget and demo storefront in release mode into dist/.
#
# Release builds rebuild the standard library with panics that abort at once
# (-Cpanic=immediate-abort): no panic messages, no formatting machinery, no panic hook in
# the wasm. That is the standard size recipe for Rust on the web; it saves about 6 kB of the
# widget's brotli budget (measured). std's `optimize_for_size` feature picks its smaller
# implementations (about 400 bytes brotli, measured; `panic-unwind` is cargo's default feature,
# kept). Those flags are unstable, so this one build runs
# with RUSTC_BOOTSTRAP on the stable toolchain; debug builds, `trunk serve` and the tests
# use the normal standard library.
build_widget_release() {
  step "Build the widget (release) into dist/"
  RUSTC_BOOTSTRAP=1 \
    CARGO_UNSTABLE_BUILD_STD=std,panic_abort \
    CARGO_UNSTABLE_BUILD_STD_FEATURES=optimize_for_size,panic-unwind \
    RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort" \
    trunk build --release
  note "$(ls dist | grep -v '\.\(br\|gz\)$' | tr '\n' ' ')"
  build_console_release
}

# The merchant's console (console/), into dist/admin/: after the widget, whose build empties
# dist/. Built without the widget's size tricks (it has no size budget).
build_console_release() {
  step "Build the console (release) into dist/admin/"
  (cd "$ROOT/console" && trunk build --release)
  note "$(ls "$ROOT/dist/admin" | tr '\n' ' ')"
}
