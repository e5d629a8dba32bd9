#!/bin/sh
# Cost of sandwrap's seccomp filters on allowed system calls, and of
# building them at launch. See bench/README.md ("Seccomp").
#
#   bench/seccomp.sh            # N=10000000 getppid, M=1000000 stat, 5 runs each
#   N=1000000 RUNS=3 bench/seccomp.sh
set -eu
cd "$(dirname "$0")/.."
N=${N:-10000000}
M=${M:-1000000}
RUNS=${RUNS:-5}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
chmod 755 "$T"

cargo build --release --quiet --bin sandwrap --example seccomp_presets
cp target/release/sandwrap "$T/sandwrap"
gcc -O2 -o "$T/calls" bench/seccomp_calls.c
PY=/usr/bin/python3

# The same presets compiled by libseccomp, for bwrap --seccomp.
target/release/examples/seccomp_presets dump default > "$T/default.rules"
target/release/examples/seccomp_presets dump strict > "$T/strict.rules"
cat > "$T/libseccomp.py" <<'PYEOF'
import sys, seccomp
ops = {"eq": seccomp.EQ, "ne": seccomp.NE, "lt": seccomp.LT, "le": seccomp.LE,
       "gt": seccomp.GT, "ge": seccomp.GE, "masked_eq": seccomp.MASKED_EQ}
def action(a):
    if a == "allow": return seccomp.ALLOW
    if a == "kill": return seccomp.KILL_PROCESS
    if a.startswith("errno:"): return seccomp.ERRNO(int(a[6:]))
    raise SystemExit("unsupported action " + a)
lines = [l.split() for l in open(sys.argv[1])]
f = seccomp.SyscallFilter(defaction=action(lines[0][1]))
# libseccomp has no "last rule wins": keep each call's rules after its
# last unconditional one, and let a conditional rule of another action
# than the unconditional one stand for the exception it makes.
by_call = {}
for l in lines[1:]:
    by_call.setdefault(l[0], []).append(l[1:])
for call, rules in by_call.items():
    last = max((i for i, r in enumerate(rules) if len(r) == 1), default=-1)
    for r in rules[max(last, 0):]:
        args = []
        rest = r[1:]
        seen = set()
        for i in range(0, len(rest), 4):
            idx, op, val, mask = int(rest[i]), rest[i + 1], int(rest[i + 2]), int(rest[i + 3])
            if idx in seen:
                continue  # libseccomp takes one comparison per argument
            seen.add(idx)
            args.append(seccomp.Arg(idx, ops[op], mask, val) if op == "masked_eq" else seccomp.Arg(idx, ops[op], val))
        try:
            f.add_rule(action(r[0]), call, *args)
        except Exception:
            pass  # e.g. an action equal to the default
f.export_bpf(open(sys.argv[2], "wb"))
PYEOF
HAVE_LIBSECCOMP=1
for p in default strict; do
    $PY "$T/libseccomp.py" "$T/$p.rules" "$T/$p.bpf" 2>/dev/null || HAVE_LIBSECCOMP=0
done
[ -x /usr/bin/bwrap ] || HAVE_LIBSECCOMP=0

BASE="--ro-bind / / --dev /dev --proc /proc"

# best of RUNS: "getppid_ns stat_ns"
measure() {
    best=""
    i=0
    while [ $i -lt "$RUNS" ]; do
        out=$("$@")
        best=$(printf '%s\n%s\n' "$best" "$out" | awk 'NF==2 { if (g=="" || $1<g) g=$1; if (s=="" || $2<s) s=$2 } END { print g, s }')
        i=$((i + 1))
    done
    echo "$best"
}

printf '%-44s %14s %12s\n' "filter" "getppid ns" "stat ns"
row() {
    name=$1; shift
    r=$(measure "$@")
    printf '%-44s %14s %12s\n' "$name" "${r% *}" "${r#* }"
}
row "none (sandwrap, no filter)" "$T/sandwrap" $BASE -- "$T/calls" "$N" "$M"
row "one rule (--seccomp-deny ptrace)" "$T/sandwrap" $BASE --seccomp-deny ptrace -- "$T/calls" "$N" "$M"
row "sandwrap --seccomp-policy default" "$T/sandwrap" $BASE --seccomp-policy default -- "$T/calls" "$N" "$M"
row "sandwrap --seccomp-policy strict" "$T/sandwrap" $BASE --seccomp-policy strict -- "$T/calls" "$N" "$M"
row "sandwrap default + --seccomp-report" "$T/sandwrap" $BASE --seccomp-policy default --seccomp-report -- "$T/calls" "$N" "$M"
if [ "$HAVE_LIBSECCOMP" = 1 ]; then
    row "bwrap, no filter" /usr/bin/bwrap $BASE -- "$T/calls" "$N" "$M"
    row "bwrap --seccomp (libseccomp: default)" sh -c 'exec /usr/bin/bwrap "$@" 3<"$0"' "$T/default.bpf" $BASE --seccomp 3 -- "$T/calls" "$N" "$M"
    row "bwrap --seccomp (libseccomp: strict)" sh -c 'exec /usr/bin/bwrap "$@" 3<"$0"' "$T/strict.bpf" $BASE --seccomp 3 -- "$T/calls" "$N" "$M"
else
    echo "(bwrap rows skipped: /usr/bin/bwrap or python3-seccomp missing)"
fi
echo
echo "filter build (resolve the preset + compile), release build:"
target/release/examples/seccomp_presets time

echo
echo "filter install (the kernel call alone, median of 400 fresh children):"
target/release/examples/seccomp_presets install 400
