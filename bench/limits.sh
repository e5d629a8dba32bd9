#!/usr/bin/env bash
# Limits benchmark: the launch cost of --rlimit and --timeout, the cost of
# cgroup setup where a delegated cgroup v2 exists, and how accurately
# --timeout ends a sandbox. Prints figures; asserts nothing. See
# bench/README.md ("Limits") for what each line means.
#
# Tunables (environment): N (launches per command in a, default 200), RUNS
# (timeouts per row in c, default 20), BENCH_UID (uid the commands run as
# when invoked as root, default 4242), SANDWRAP_BIN (binary to measure;
# default: the static release build of scripts/build-release.sh).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
N=${N:-200}
RUNS=${RUNS:-20}

die() { echo "limits.sh: $*" >&2; exit 1; }

[[ -n ${EPOCHREALTIME:-} ]] || die "bash 5 is needed (EPOCHREALTIME)"
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

echo "sandwrap limits benchmark"
echo "  sandwrap: $("$SW" --version) ($release)"
echo "  runs as:  $runner; kernel $(uname -r); $(nproc) CPUs; times in ms"
echo

# a) launch cost --------------------------------------------------------------
base=("$SW" --unshare-all --ro-bind / /)
argfile plain "${base[@]}" /bin/true
argfile rlimits "${base[@]}" --rlimit nofile=1024 --rlimit nproc=4096 --rlimit core=0 \
    --rlimit fsize=1G --rlimit stack=8M: /bin/true
argfile timeout "${base[@]}" --timeout 1h /bin/true
# --json-status-fd 1 --json-usage: the usage object goes to the timer's
# /dev/null, but it is measured (the supervisor waits for pid 1, then
# getrusage); --json-status-fd alone is the reference.
argfile status "${base[@]}" --json-status-fd 1 /bin/true
argfile usage "${base[@]}" --json-status-fd 1 --json-usage /bin/true
timer "$N" plain rlimits timeout status usage
echo "a) /bin/true with --unshare-all --ro-bind / /  (N=$N each, interleaved)"
printf '  %-52s %10s %10s %12s\n' "" median p90 "median - a0"
p0=$(field plain 2)
for row in "plain:a0 no limits" \
    "rlimits:a1 5 x --rlimit" \
    "timeout:a2 --timeout 1h (watchdog thread, pidfd)" \
    "status:a3 --json-status-fd 1" \
    "usage:a4 --json-status-fd 1 --json-usage (accounting)"; do
    label=${row%%:*}
    awk -v t="${row#*:}" -v m="$(field "$label" 2)" -v p="$(field "$label" 3)" -v z="$p0" \
        'BEGIN { printf "  %-52s %10.3f %10.3f %+12.3f\n", t, m, p, m - z }'
done
echo

# b) cgroup setup -------------------------------------------------------------
# The launch cost of a cgroup of the sandbox's own (mkdir, moving the first
# process in, cgroup.kill and waiting for it to be empty, rmdir), paired
# against the same launch without. It needs a delegated cgroup v2: when
# invoked as root, one is made for BENCH_UID as systemd would (as .ci/run
# does for the tests) and the timer runs in it; otherwise the caller's own
# cgroup is used if it is delegated.
cgroup2=$(awk '{ for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") { print $5; exit } break } }' /proc/self/mountinfo)
in_cgroup=()
if [[ -n $cgroup2 && $(id -u) == 0 ]]; then
    delegated=$cgroup2/sandwrap-bench-$BENCH_UID-$$
    mkdir "$delegated"
    chown "$BENCH_UID:$BENCH_UID" "$delegated" "$delegated"/cgroup.procs \
        "$delegated"/cgroup.subtree_control "$delegated"/cgroup.threads
    trap 'rm -rf "$work"; rmdir "$delegated"/sandwrap-* "$delegated" 2>/dev/null || true' EXIT
    # shellcheck disable=SC2016 # expanded by that shell
    in_cgroup=(sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$delegated")
fi
argfile plain_r "$SW" --ro-bind / / /bin/true
argfile own_r "$SW" --ro-bind / / --own-cgroup /bin/true
argfile all_r "${base[@]}" /bin/true
argfile own_all "${base[@]}" --own-cgroup /bin/true
argfile own_ns "${base[@]}" --unshare-cgroup --own-cgroup /bin/true
echo "b) cgroup v2 setup: /bin/true, paired with and without --own-cgroup (N=$N each, interleaved)"
if err=$("${in_cgroup[@]}" "${as_user[@]}" "$SW" --ro-bind / / --own-cgroup /bin/true 2>&1); then
    "${in_cgroup[@]}" "${as_user[@]}" "$work/timer" "$N" plain_r="$work/plain_r.args" \
        own_r="$work/own_r.args" all_r="$work/all_r.args" own_all="$work/own_all.args" \
        own_ns="$work/own_ns.args" >"$work/out"
    printf '  %-60s %10s %10s %10s\n' "" median p90 added
    for row in "plain_r:b0 --ro-bind / /:plain_r" \
        "own_r:b1 --ro-bind / / --own-cgroup:plain_r" \
        "all_r:b2 --unshare-all --ro-bind / /:all_r" \
        "own_all:b3 --unshare-all --ro-bind / / --own-cgroup:all_r" \
        "own_ns:b4 b3 with its cgroup namespace made after the move:all_r"; do
        label=${row%%:*}
        rest=${row#*:}
        ref=${rest##*:}
        awk -v t="${rest%:*}" -v m="$(field "$label" 2)" -v p="$(field "$label" 3)" \
            -v z="$(field "$ref" 2)" \
            'BEGIN { printf "  %-60s %10.3f %10.3f %+10.3f\n", t, m, p, m - z }'
    done
else
    echo "  not measured: no delegated cgroup v2 here:"
    echo "  $err" | fold -s -w 100 | sed '2,$s/^/    /'
fi
if err=$("${in_cgroup[@]}" "${as_user[@]}" "$SW" --ro-bind / / --memory 1G /bin/true 2>&1); then
    echo "  --memory 1G accepted (limits set); not timed separately"
else
    echo "  --memory 1G (the limits): refused here:"
    echo "  $err" | fold -s -w 100 | sed '2,$s/^/    /'
fi
echo

# c) timeout accuracy ---------------------------------------------------------
# overshoot = wall time of the whole sandwrap run - the time asked for.
# run_timed EXPECTED_S CMD... : append one overshoot in ms to $work/o.
run_timed() {
    local expected=$1 start end
    shift
    start=$EPOCHREALTIME
    "${as_user[@]}" "$@" >/dev/null 2>&1 || true
    end=$EPOCHREALTIME
    awk -v s="$start" -v e="$end" -v x="$expected" 'BEGIN { printf "%.3f\n", (e - s - x) * 1000 }' >>"$work/o"
}
# stats: median and max of $work/o.
stats() {
    sort -n "$work/o" | awk '{ v[NR] = $1 } END { printf "%10.1f %10.1f\n", v[int((NR + 1) / 2)], v[NR] }'
    rm -f "$work/o"
}
echo "c) --timeout accuracy: overshoot in ms beyond the time asked for (RUNS=$RUNS each)"
printf '  %-60s %10s %10s\n' "" median max
for _ in $(seq "$RUNS"); do run_timed 1 timeout 1 sleep 10; done
printf '  %-60s %s\n' "c0 reference: timeout(1) 1 sleep 10, no sandbox" "$(stats)"
for _ in $(seq "$RUNS"); do run_timed 1 "${base[@]}" --timeout 1 sleep 10; done
printf '  %-60s %s\n' "c1 --unshare-all --timeout 1 sleep 10" "$(stats)"
for _ in $(seq "$RUNS"); do run_timed 1 "$SW" --ro-bind / / --timeout 1 sleep 10; done
printf '  %-60s %s\n' "c2 no pid namespace: --timeout 1 sleep 10" "$(stats)"
ignore=(sh -c "trap '' TERM; sleep 10 & sleep 10")
for _ in $(seq "$RUNS"); do run_timed 1.5 "${base[@]}" --timeout 1 --kill-after 0.5s "${ignore[@]}"; done
printf '  %-60s %s\n' "c3 SIGTERM ignored, --kill-after 0.5s (vs 1.5 s)" "$(stats)"
for _ in $(seq "$RUNS"); do run_timed 1.5 "$SW" --ro-bind / / --timeout 1 --kill-after 0.5s "${ignore[@]}"; done
printf '  %-60s %s\n' "c4 the same without a pid namespace (vs 1.5 s)" "$(stats)"
