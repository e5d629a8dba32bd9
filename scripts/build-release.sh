#!/usr/bin/env bash
# Build the release binary the way it is meant to ship: statically linked
# (glibc, static-pie). Dynamic loading is about 0.6 ms of a ~4 ms launch
# (bench/launch.sh). The flag cannot live in .cargo/config.toml: it would also
# apply to proc-macro crates, which cannot be built static.
# Prints the path of the binary on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
triple=$(rustc -vV | sed -n 's/^host: //p')
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
    cargo build --release --locked --target "$triple" >&2
echo "$PWD/target/$triple/release/sandwrap"
