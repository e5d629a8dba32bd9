#!/usr/bin/env bash
# Network benchmark (README "Networking"): the launch cost --network pasta
# adds (median, paired against --unshare-net), and TCP throughput and
# round-trip latency from the sandbox to the host's loopback through pasta
# against host to host loopback. Prints figures; asserts nothing.
#
# b) runs, as root only, in a network namespace this script makes (its only
# route goes into a tap device nothing reads): no traffic leaves the machine.
#
# Tunables (environment): N (launches per command in a, default 200), MIB
# (MiB per transfer in b, default 1024), RTTS (round trips in b, default
# 2000), BENCH_UID (uid the commands run as when invoked as root, default
# 4242), SANDWRAP_BIN (binary to measure; default: the static release build).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
N=${N:-200}
MIB=${MIB:-1024}
RTTS=${RTTS:-2000}

die() { echo "network.sh: $*" >&2; exit 1; }

command -v pasta >/dev/null || die "pasta is needed (apt-get install passt)"
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
cp "$here/netperf.py" "$work/netperf.py"

echo "sandwrap network benchmark"
echo "  sandwrap: $("$SW" --version) ($release); $(pasta --version 2>/dev/null | head -1)"
echo "  runs as:  $runner; kernel $(uname -r); $(nproc) CPUs"
echo

# a) launch cost ----------------------------------------------------------------
argfile none "$SW" --unshare-all --ro-bind / / -- /bin/true
argfile pasta "$SW" --unshare-all --network pasta --ro-bind / / -- /bin/true
timer "$N" none pasta
none=$(field none 2)
pasta=$(field pasta 2)
echo "a) launch, /bin/true, median of $N (ms)"
awk -v n="$none" -v p="$pasta" 'BEGIN {
    printf "  --unshare-all                     %8.2f\n", n
    printf "  --unshare-all --network pasta     %8.2f  (+%.2f)\n", p, p - n }'
echo

# b) throughput and latency ----------------------------------------------------
if [[ $(id -u) != 0 ]]; then
    echo "b) skipped: the test network namespace needs root"
    exit 0
fi
echo "b) TCP to the host's loopback: $MIB MiB one way (MiB/s), median of $RTTS one-byte round trips (us)"
user=$(printf '%q ' "${as_user[@]}")
unshare --net --mount --pid --fork --mount-proc bash -c "
set -e
ip link set lo up; ip tuntap add sw0 mode tap; ip addr add 10.9.0.2/24 dev sw0
ip link set sw0 up; ip route add default via 10.9.0.1
python3 $work/netperf.py server 5201 &
host_mib=\$(python3 $work/netperf.py sink 127.0.0.1 5201 $MIB)
host_rtt=\$(python3 $work/netperf.py rtt 127.0.0.1 5201 $RTTS)
sandbox() { $user $SW --unshare-all --network pasta --network-allow-host-loopback --ro-bind / / -- python3 $work/netperf.py \"\$@\"; }
pasta_mib=\$(sandbox sink 10.9.0.1 5201 $MIB)
pasta_rtt=\$(sandbox rtt 10.9.0.1 5201 $RTTS)
printf '  host -> host loopback            %8s MiB/s %8s us\n' \$host_mib \$host_rtt
printf '  sandbox -> pasta -> host loopback %7s MiB/s %8s us\n' \$pasta_mib \$pasta_rtt
"
