# Shared set-up of the bench/ scripts (sourced). Expects $here (bench/),
# $repo and a die function; sets $release, $work (removed at exit), $SW (a
# world-readable copy of the binary there), $work/timer, as_user (setpriv
# to BENCH_UID, default 4242, when invoked as root) and $runner, and cds
# into $work.

# The shipped build: static, from scripts/build-release.sh (SANDWRAP_BIN
# overrides, e.g. to compare with a dynamically linked target/release build).
if [[ -n ${SANDWRAP_BIN:-} ]]; then
    release=$SANDWRAP_BIN
else
    echo "building the static release binary (scripts/build-release.sh)" >&2
    release=$("$repo/scripts/build-release.sh")
fi
command -v gcc >/dev/null || die "gcc is needed to build the bench/ helpers"

work=$(mktemp -d /tmp/sandwrap-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
# When root, everything runs as BENCH_UID, which must be able to read all of this.
chmod 755 "$work"
umask 022
cp "$release" "$work/sandwrap"
chmod 755 "$work/sandwrap"
gcc -O2 -Wall -o "$work/timer" "$here/timer.c"
SW=$work/sandwrap
cd "$work"

BENCH_UID=${BENCH_UID:-4242}
as_user=()
runner="$(id -un) (uid $(id -u))"
if [[ $(id -u) == 0 ]]; then
    as_user=(setpriv "--reuid=$BENCH_UID" "--regid=$BENCH_UID" --clear-groups)
    runner="uid $BENCH_UID via setpriv (invoked as root)"
fi

# argfile NAME ARGV... : store one command for the timer.
argfile() {
    local name=$1
    shift
    printf '%s\0' "$@" >"$work/$name.args"
}

# timer ROUNDS LABEL... : time the commands stored under LABEL, interleaved;
# leaves "LABEL median p90 runs" lines in $work/out (and appends them to
# $work/all).
timer() {
    local rounds=$1 specs=() l
    shift
    for l in "$@"; do specs+=("$l=$work/$l.args"); done
    "${as_user[@]}" "$work/timer" "$rounds" "${specs[@]}" >"$work/out"
    cat "$work/out" >>"$work/all"
}
# field LABEL COLUMN : median (2) or p90 (3) of LABEL from the last timer run.
field() { awk -v l="$1" -v c="$2" '$1 == l { print $c }' "$work/out"; }
