#!/usr/bin/env bash
# Launch-cost benchmark: sandwrap against /usr/bin/bwrap (when installed) and
# the kernel floor, in one run. See bench/README.md for what each line means.
#
# Tunables (environment): N (launches per tool in a, default 200),
# SANDWRAP_DYN_BIN (the dynamic build to time next to the static one),
# COMPARE ("NAME=PATH ...": more builds to time in a),
# BIND_RUNS (runs per point in c, default 10), BWRAP_BIG_RUNS (bwrap runs at
# 1000 binds, default 3), MOUNT_RUNS (runs per command in d, default 100),
# EXTRA_MOUNTS (host mounts added in d2 when root, default 500).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
N=${N:-200}
BIND_RUNS=${BIND_RUNS:-10}
BWRAP_BIG_RUNS=${BWRAP_BIG_RUNS:-3}
MOUNT_RUNS=${MOUNT_RUNS:-100}
EXTRA_MOUNTS=${EXTRA_MOUNTS:-500}
BWRAP=/usr/bin/bwrap

die() { echo "launch.sh: $*" >&2; exit 1; }

# shellcheck source=bench/lib.sh
source "$here/lib.sh"
gcc -O2 -Wall -o "$work/floor" "$here/floor.c"
have_bwrap=false
[[ -x $BWRAP ]] && have_bwrap=true

# row TITLE SANDWRAP_MS BWRAP_MS : one table line with the ratio.
row() {
    if [[ -n $3 ]]; then
        awk -v t="$1" -v s="$2" -v b="$3" 'BEGIN { printf "  %-42s %10.3f %10.3f %8.2f\n", t, s, b, s / b }'
    else
        awk -v t="$1" -v s="$2" 'BEGIN { printf "  %-42s %10.3f %10s %8s\n", t, s, "-", "-" }'
    fi
}
header() { printf '%s\n' "$1"; printf '  %-42s %10s %10s %8s\n' "" "sandwrap" "bwrap" "sw/bw"; }

# The minimum for /bin/true without the whole host: /usr and the merged-/usr
# links (or directories) next to it.
usr_root=(--ro-bind /usr /usr)
for p in /bin /lib /lib64 /sbin; do
    if [[ -L $p ]]; then
        usr_root+=(--symlink "$(readlink "$p")" "$p")
    elif [[ -d $p ]]; then
        usr_root+=(--ro-bind "$p" "$p")
    fi
done

echo "sandwrap launch benchmark"
echo "  sandwrap: $("$SW" --version) ($release)"
$have_bwrap && echo "  bwrap:    $("$BWRAP" --version) ($BWRAP)" || echo "  bwrap:    not installed, its columns are empty"
echo "  runs as:  $runner; kernel $(uname -r); $(nproc) CPUs; all times in ms"
echo

# a) launch ---------------------------------------------------------------
# The dynamically linked build users get from `cargo build --release` or
# `cargo install`, next to the static one (unless SANDWRAP_BIN was given).
dyn=""
if [[ -n ${SANDWRAP_DYN_BIN:-} ]]; then
    dyn=$SANDWRAP_DYN_BIN
elif [[ -z ${SANDWRAP_BIN:-} ]]; then
    echo "building the dynamically linked release binary (cargo build --release)" >&2
    (cd "$repo" && cargo build --release --locked >&2)
    dyn=$repo/target/release/sandwrap
fi
if [[ -n $dyn ]]; then
    cp "$dyn" "$work/sandwrap-dyn"
    chmod 755 "$work/sandwrap-dyn"
fi
# COMPARE="NAME=PATH ...": more builds timed in the same run (e.g. those
# of an earlier commit), with rows of their own.
extra=()
for spec in ${COMPARE:-}; do
    name=${spec%%=*}
    [[ $name != "$spec" && $name =~ ^[A-Za-z0-9_-]+$ ]] || die "COMPARE: NAME=PATH expected, got $spec"
    cp "${spec#*=}" "$work/sandwrap-$name"
    chmod 755 "$work/sandwrap-$name"
    extra+=("$name")
done
plain=(--unshare-all --ro-bind / /)
flatpak=(--unshare-all --die-with-parent --new-session --ro-bind / / --proc /proc --dev /dev)
labels=(floor)
argfile floor "$work/floor"
for line in plain flatpak; do
    declare -n opts=$line
    argfile "${line}_sw" "$SW" "${opts[@]}" /bin/true
    labels+=("${line}_sw")
    if [[ -n $dyn ]]; then
        argfile "${line}_dyn" "$work/sandwrap-dyn" "${opts[@]}" /bin/true
        labels+=("${line}_dyn")
    fi
    for name in "${extra[@]}"; do
        argfile "${line}_x_$name" "$work/sandwrap-$name" "${opts[@]}" /bin/true
        labels+=("${line}_x_$name")
    done
    if $have_bwrap; then
        argfile "${line}_bw" "$BWRAP" "${opts[@]}" /bin/true
        labels+=("${line}_bw")
    fi
    unset -n opts
done
timer "$N" "${labels[@]}"
# arow TITLE LABEL BWRAP_LABEL : median, p90, cpu, faults, median / bwrap's.
arow() {
    local b=""
    [[ -n $3 ]] && b=$(field "$3" 2)
    awk -v t="$1" -v m="$(field "$2" 2)" -v p="$(field "$2" 3)" -v c="$(field "$2" 5)" \
        -v f="$(field "$2" 6)" -v b="$b" \
        'BEGIN { printf "  %-34s %8.3f %8.3f %8.3f %7d %8s\n", t, m, p, c, f, (b == "" ? "-" : sprintf("%.2f", m / b)) }'
}
echo "a) /bin/true, N=$N each, interleaved; cpu: user+system time of the whole process tree; faults: minor page faults"
printf '  %-34s %8s %8s %8s %7s %8s\n' "" median p90 cpu faults "/bwrap"
for line in plain flatpak; do
    case $line in
    plain) echo "  --unshare-all --ro-bind / /" ;;
    flatpak) echo "  flatpak-like: --unshare-all --die-with-parent --new-session --ro-bind / / --proc /proc --dev /dev" ;;
    esac
    bw=""
    $have_bwrap && bw=${line}_bw
    arow "sandwrap, static" "${line}_sw" "$bw"
    [[ -n $dyn ]] && arow "sandwrap, dynamic" "${line}_dyn" "$bw"
    for name in "${extra[@]}"; do
        arow "$name" "${line}_x_$name" "$bw"
    done
    $have_bwrap && arow "bwrap" "${line}_bw" "$bw"
done
arow "floor (bench/floor.c)" floor "${bw:+plain_bw}"
if [[ -n $dyn ]]; then
    awk -v s="$(field plain_sw 2)" -v d="$(field plain_dyn 2)" -v fs="$(field flatpak_sw 2)" -v fd="$(field flatpak_dyn 2)" \
        'BEGIN { printf "  dynamic / static: %.3f (plain), %.3f (flatpak-like)\n", d / s, fd / fs }'
fi
echo
# b) measured in the same interleaved run as a).
echo "b) kernel floor: bench/floor.c, one clone into 7 new namespaces + id maps + exec /bin/true"
above() { [[ -n $1 ]] && awk -v t="$1" -v f="$2" 'BEGIN { printf "%.3f", t - f }'; }
header "   (same interleaved run as a)"
row "median above the floor (plain line)" "$(above "$(field plain_sw 2)" "$(field floor 2)")" "$(above "$(field plain_bw 2)" "$(field floor 2)" || true)"
echo

# c) bind scaling ---------------------------------------------------------
mkdir "$work/src"
for i in $(seq -w 0 999); do mkdir "$work/src/d$i"; done
header "c) K x --ro-bind SRC_i /b/d_i on a minimal /usr root  (median)"
declare -A c_sw c_bw u_sw u_bw
for k in 10 100 1000; do
    binds=()
    for ((i = 0; i < k; i++)); do
        d=$(printf 'd%03d' "$i")
        binds+=(--ro-bind "$work/src/$d" "/b/$d")
    done
    argfile "c${k}_sw" "$SW" --unshare-all "${usr_root[@]}" "${binds[@]}" /bin/true
    argfile "c${k}_bw" "$BWRAP" --unshare-all "${usr_root[@]}" "${binds[@]}" /bin/true
    note="N=$BIND_RUNS"
    if ! $have_bwrap; then
        timer "$BIND_RUNS" "c${k}_sw"
        c_sw[$k]=$(field "c${k}_sw" 2) u_sw[$k]=$(field "c${k}_sw" 5)
    elif ((k < 1000)); then
        timer "$BIND_RUNS" "c${k}_sw" "c${k}_bw"
        c_sw[$k]=$(field "c${k}_sw" 2) u_sw[$k]=$(field "c${k}_sw" 5)
        c_bw[$k]=$(field "c${k}_bw" 2) u_bw[$k]=$(field "c${k}_bw" 5)
    else
        # bwrap rereads mountinfo per bind: too slow for many runs here.
        timer "$BIND_RUNS" "c${k}_sw"
        c_sw[$k]=$(field "c${k}_sw" 2) u_sw[$k]=$(field "c${k}_sw" 5)
        timer "$BWRAP_BIG_RUNS" "c${k}_bw"
        c_bw[$k]=$(field "c${k}_bw" 2) u_bw[$k]=$(field "c${k}_bw" 5)
        note="N=$BIND_RUNS, bwrap N=$BWRAP_BIG_RUNS"
    fi
    row "$k binds ($note)" "${c_sw[$k]}" "${c_bw[$k]:-}"
done
per_bind() { [[ -n $1 ]] && awk -v a="$1" -v b="$2" 'BEGIN { print (b - a) / 990 * 1000 }'; }
# pb_row TITLE SW_10 SW_1000 BW_10 BW_1000
pb_row() {
    local s b
    s=$(per_bind "$2" "$3")
    b=$(per_bind "$4" "$5" || true)
    if [[ -n $b ]]; then
        awk -v t="$1" -v s="$s" -v b="$b" 'BEGIN { printf "  %-42s %10.1f %10.1f %8.2f\n", t, s, b, s / b }'
    else
        awk -v t="$1" -v s="$s" 'BEGIN { printf "  %-42s %10.1f\n", t, s }'
    fi
}
pb_row "per bind, us ((1000 - 10) / 990)" "${c_sw[10]}" "${c_sw[1000]}" "${c_bw[10]:-}" "${c_bw[1000]:-}"
# The same from the CPU time of the process tree, which load disturbs less.
pb_row "per bind, cpu us (same)" "${u_sw[10]}" "${u_sw[1000]}" "${u_bw[10]:-}" "${u_bw[1000]:-}"
echo

# d) host mounts ----------------------------------------------------------
# mounts_under DIR : mount points at DIR or below, as this process sees them.
mounts_under() { awk -v d="$1" '$5 == d || index($5, (d == "/" ? "/" : d "/")) == 1' /proc/self/mountinfo | wc -l; }
argfile d_root_sw "$SW" --unshare-all --ro-bind / / /bin/true
argfile d_usr_sw "$SW" --unshare-all "${usr_root[@]}" /bin/true
argfile d_root_bw "$BWRAP" --unshare-all --ro-bind / / /bin/true
argfile d_usr_bw "$BWRAP" --unshare-all "${usr_root[@]}" /bin/true
d_labels=(d_root_sw d_usr_sw)
$have_bwrap && d_labels+=(d_root_bw d_usr_bw)

# d_table TITLE MOUNTS_ROOT MOUNTS_USR : rows from the last d timer run.
d_table() {
    header "$1"
    row "--ro-bind / /     ($2 mounts copied)" "$(field d_root_sw 2)" "$(field d_root_bw 2)"
    row "--ro-bind /usr /usr ($3 copied)" "$(field d_usr_sw 2)" "$(field d_usr_bw 2)"
    local s b
    s=$(awk -v r="$(field d_root_sw 2)" -v u="$(field d_usr_sw 2)" -v n="$(($2 - $3))" 'BEGIN { print (r - u) / n * 1000 }')
    if $have_bwrap; then
        b=$(awk -v r="$(field d_root_bw 2)" -v u="$(field d_usr_bw 2)" -v n="$(($2 - $3))" 'BEGIN { print (r - u) / n * 1000 }')
        awk -v s="$s" -v b="$b" 'BEGIN { printf "  %-42s %10.1f %10.1f\n", "per host mount, us (difference / mounts)", s, b }'
    else
        awk -v s="$s" 'BEGIN { printf "  %-42s %10.1f\n", "per host mount, us (difference / mounts)", s }'
    fi
}
n_root=$(mounts_under /)
n_usr=$(mounts_under /usr)
((n_usr > 0)) || n_usr=1 # /usr is not a mount point: binding it makes one mount
timer "$MOUNT_RUNS" "${d_labels[@]}"
d_table "d) host mounts: / has $n_root mounts in /proc/self/mountinfo  (median, N=$MOUNT_RUNS)" "$n_root" "$n_usr"

# d2) as root, a private mount namespace can really have many more mounts.
if [[ $(id -u) == 0 ]] && command -v unshare >/dev/null; then
    mkdir "$work/mnt"
    export work EXTRA_MOUNTS MOUNT_RUNS
    export -f timer
    export as_user_str="${as_user[*]}"
    unshare --mount --propagation private bash -euc '
        for ((i = 0; i < EXTRA_MOUNTS; i++)); do
            mkdir "$work/mnt/m$i"
            mount -t tmpfs -o size=16k,mode=755 "bench$i" "$work/mnt/m$i"
        done
        awk "END { print NR }" /proc/self/mountinfo >"$work/n_root2"
        read -ra as_user <<<"$as_user_str"
        timer "$MOUNT_RUNS" "$@"
    ' d2 "${d_labels[@]}"
    echo
    d_table "d2) same with $EXTRA_MOUNTS extra tmpfs mounts (private mount ns; root only)" "$(cat "$work/n_root2")" "$n_usr"
fi
echo

# e) memory ---------------------------------------------------------------
# tree_rss TOOL : median of 5 runs of /usr/bin/time's max RSS (KiB).
tree_rss() {
    local i
    for i in 1 2 3 4 5; do
        # time's report is the last line of stderr (the sandbox prints nothing).
        "${as_user[@]}" /usr/bin/time -f %M "$1" --unshare-all --ro-bind / / /bin/true 2>&1 >/dev/null | tail -n 1
    done | sort -n | sed -n 3p
}
status_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null; }
pss_kib() { awk '$1 == "Pss:" { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null; }
children() { cat /proc/"$1"/task/*/children 2>/dev/null; }
# hwm TOOL : "supervisor_hwm pid1_hwm supervisor_pss pid1_pss" while `sleep 1`
# runs inside with --unshare-pid.
hwm() {
    "${as_user[@]}" "$1" --unshare-pid --ro-bind / / /bin/sleep 1 &
    local sup=$! pid1="" cmd="" t
    for ((t = 0; t < 100; t++)); do
        for pid1 in $(children "$sup"); do
            for cmd in $(children "$pid1"); do
                [[ $(cat "/proc/$cmd/comm" 2>/dev/null) == sleep ]] && break 3
            done
        done
        pid1="" cmd=""
        sleep 0.01
    done
    if [[ -z $cmd ]] || ! grep -Eq '^NSpid:.*[[:space:]]1$' "/proc/$pid1/status"; then
        wait "$sup" || true
        echo "? ? ? ?"
        return
    fi
    echo "$(status_kib "$sup" VmHWM) $(status_kib "$pid1" VmHWM) $(pss_kib "$sup") $(pss_kib "$pid1")"
    wait "$sup"
}
[[ -x /usr/bin/time ]] || echo "  (/usr/bin/time missing: install package 'time' for the first line)"
read -r sw_sup sw_pid1 sw_sup_pss sw_pid1_pss <<<"$(hwm "$SW")"
bw_sup="" bw_pid1="" bw_sup_pss="" bw_pid1_pss=""
$have_bwrap && read -r bw_sup bw_pid1 bw_sup_pss bw_pid1_pss <<<"$(hwm "$BWRAP")"
sw_tree="" bw_tree=""
[[ -x /usr/bin/time ]] && sw_tree=$(tree_rss "$SW")
[[ -x /usr/bin/time ]] && $have_bwrap && bw_tree=$(tree_rss "$BWRAP")
printf 'e) peak memory, KiB\n  %-42s %10s %10s\n' "" sandwrap bwrap
printf '  %-42s %10s %10s\n' "max RSS of the tree (/usr/bin/time %M)" "${sw_tree:--}" "${bw_tree:--}"
printf '  %-42s %10s %10s\n' "supervisor VmHWM (sleep 1 inside)" "${sw_sup:--}" "${bw_sup:--}"
printf '  %-42s %10s %10s\n' "pid 1 VmHWM" "${sw_pid1:--}" "${bw_pid1:--}"
printf '  %-42s %10s %10s\n' "supervisor Pss (smaps_rollup)" "${sw_sup_pss:--}" "${bw_sup_pss:--}"
printf '  %-42s %10s %10s\n' "pid 1 Pss" "${sw_pid1_pss:--}" "${bw_pid1_pss:--}"
