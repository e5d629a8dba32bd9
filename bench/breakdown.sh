#!/usr/bin/env bash
# Where one launch spends its time: N launches of sandwrap and of the kernel
# floor (bench/floor.c) recorded with perf's syscall and process
# tracepoints, then bench/breakdown.py prints the median time of each
# phase. See bench/README.md. Needs root (perf tracepoints); the launches
# run as BENCH_UID through setpriv, as in launch.sh.
#
# Tunables (environment): N (launches, default 200), LINE (plain: the
# default `--unshare-all --ro-bind / /`; flatpak: the flatpak-like line),
# SANDWRAP_BIN (default: the static release build).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
N=${N:-200}
LINE=${LINE:-plain}

die() { echo "breakdown.sh: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || die "run as root (perf needs the tracepoints)"
command -v perf >/dev/null || die "perf is not installed"
command -v python3 >/dev/null || die "python3 is not installed"

# shellcheck source=bench/lib.sh
source "$here/lib.sh"
gcc -O2 -Wall -o "$work/floor" "$here/floor.c"
gcc -O2 -Wall -o "$work/calls" "$here/seccomp_calls.c"
gcc -O2 -Wall -o "$work/fork_cost" "$here/fork_cost.c"
case $LINE in
plain) args=(--unshare-all --ro-bind / /) ;;
flatpak) args=(--unshare-all --die-with-parent --new-session --ro-bind / / --proc /proc --dev /dev) ;;
*) die "LINE must be plain or flatpak" ;;
esac

events=raw_syscalls:sys_enter,raw_syscalls:sys_exit,sched:sched_process_exec,sched:sched_process_fork,sched:sched_process_exit
record() {
    perf record -q -e "$events" -o "$work/perf.data" -- "$@" >/dev/null 2>"$work/perf.err" ||
        { cat "$work/perf.err" >&2; die "perf record failed"; }
    perf script -i "$work/perf.data" -F comm,pid,tid,time,event,trace --ns 2>/dev/null
}

# What tracing adds per system call (getppid, the cheapest) and per fork.
traced() { perf record -q -e "$events" -o "$work/cal.data" -- "${as_user[@]}" "$@" 2>/dev/null; }
read -r plain_ns _ <<<"$("${as_user[@]}" "$work/calls" 20000 0)"
read -r traced_ns _ <<<"$(traced "$work/calls" 20000 0)"
plain_fork=$("${as_user[@]}" "$work/fork_cost")
traced_fork=$(traced "$work/fork_cost")
cost=$(awk -v t="$traced_ns" -v p="$plain_ns" 'BEGIN { printf "%.2f", (t - p) / 1000 }')
fork_cost=$(awk -v t="$traced_fork" -v p="$plain_fork" 'BEGIN { printf "%.1f", (t - p) / 1000 }')

echo "launch breakdown: $LINE line, sandwrap ${args[*]} /bin/true"
echo "  sandwrap: $("$SW" --version) ($release); kernel $(uname -r); $(nproc) CPUs"
echo "  a system call costs ${plain_ns} ns, traced ${traced_ns} ns: the tracing adds ${cost} us to each"
echo "  a fork costs $(awk -v n="$plain_fork" 'BEGIN { printf "%.1f", n / 1000 }') us, traced $(awk -v n="$traced_fork" 'BEGIN { printf "%.1f", n / 1000 }') us: ${fork_cost} us more each"
echo
# Interleaved, so that both see the same background load.
loop=$(printf '%q ' "$SW" "${args[@]}" /bin/true)
record "${as_user[@]}" bash -c "for ((i = 0; i < $N; i++)); do $loop; $work/floor; done" >"$work/trace"
python3 "$here/breakdown.py" sandwrap "$cost" "$fork_cost" <"$work/trace"
echo
python3 "$here/breakdown.py" floor "$cost" "$fork_cost" <"$work/trace"
