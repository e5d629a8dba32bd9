#!/usr/bin/env bash
# Spawn cost through the library (issue 17): examples/spawn_bench.rs run as
# the bench user, with the shipped binary as its helper. See bench/README.md.
#
# Tunables (environment): ROUNDS (interleaved launches of each kind, default
# 200), PER_THREAD (spawns per thread in the throughput line, default 50).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
ROUNDS=${ROUNDS:-200}
PER_THREAD=${PER_THREAD:-50}

die() { echo "library.sh: $*" >&2; exit 1; }

# shellcheck source=bench/lib.sh
source "$here/lib.sh"
(cd "$repo" && cargo build --locked --release --example spawn_bench >&2)
cp "$repo/target/release/examples/spawn_bench" "$work/spawn_bench"
chmod 755 "$work/spawn_bench"

echo "sandwrap library spawn benchmark"
echo "  helper: $("$SW" --version) ($release)"
echo "  runs as: $runner"
"${as_user[@]}" env SANDWRAP_BIN="$SW" "$work/spawn_bench" "$ROUNDS" "$PER_THREAD"
