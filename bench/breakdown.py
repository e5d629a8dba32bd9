#!/usr/bin/env python3
"""Where one launch spends its time: reads `perf script` output of the
syscall and process tracepoints recorded by bench/breakdown.sh (many
launches), finds in each launch the marker events below, and prints the
median time between consecutive markers, i.e. a median timeline of one
launch.

usage: breakdown.py TOOL [COST [FORK_COST]] < perf-script-output
  TOOL: sandwrap (supervisor S, its clone child P, P's child C = the
  command) or floor (bench/floor.c: parent S, child C).

The tracepoints add about a microsecond to each system call (measured by
bench/breakdown.sh and given as COST): "corrected" subtracts it for the
calls of the phase's own process when the phase ends in that process (a
hand-over to another process counts none), and FORK_COST (what perf adds
to a fork, copying its events into the new process) for the phases that
start with a clone.
"""

import re
import statistics
import sys

NAMES = {}
for line in open("/usr/include/x86_64-linux-gnu/asm/unistd_64.h"):
    m = re.match(r"#define __NR_(\w+) (\d+)", line)
    if m:
        NAMES[int(m.group(2))] = m.group(1)

LINE = re.compile(r"^\s*(.*?)\s+(\d+)/(\d+)\s+([\d.]+):\s+(\S+):\s*(.*)$")


def events(stream):
    """(time_us, tid, kind, detail) in order: kind is 'exec', 'fork',
    'exit', or ('enter'|'leave', syscall name)."""
    for line in stream:
        m = LINE.match(line)
        if not m:
            continue
        _comm, _pid, tid, t, ev, rest = m.groups()
        t = float(t) * 1e6
        tid = int(tid)
        if ev == "raw_syscalls:sys_enter":
            yield t, tid, "enter", NAMES.get(int(rest.split()[1]), "?")
        elif ev == "raw_syscalls:sys_exit":
            yield t, tid, "leave", NAMES.get(int(rest.split()[1]), "?")
        elif ev == "sched:sched_process_exec":
            yield t, tid, "exec", rest
        elif ev == "sched:sched_process_fork":
            child = re.search(r"child_pid=(\d+)", rest)
            yield t, tid, "fork", int(child.group(1)) if child else None
        elif ev == "sched:sched_process_exit":
            yield t, tid, "exit", rest


def launches(stream, exe_match):
    """Split the event stream into launches: per launch, the list of
    (time, role, kind, detail), roles S (exec'd tool), P (S's first
    child), C (P's first child)."""
    roles = {}
    current = None
    for t, tid, kind, detail in events(stream):
        if kind == "exec" and re.search(exe_match, detail):
            if current:
                yield current
            current = []
            roles = {tid: "S"}
        if current is None:
            continue
        if kind == "fork" and tid in roles:
            parent = roles[tid]
            child_role = {"S": "P", "P": "C"}.get(parent)
            if child_role and child_role not in roles.values():
                roles[detail] = child_role
        if tid in roles:
            current.append((t, roles[tid], kind, detail))
    if current:
        yield current


# Markers of one launch, in critical-path order: (phase that starts here,
# role, event kind, syscall name or None for any, optional). The phase
# runs until the next marker found.
SANDWRAP = [
    ("exec sandwrap, start, parse, prepare", "S", "exec", None, False),
    ("clone into the new namespaces", "S", "enter", "clone", False),
    ("id maps (setgroups, uid_map, gid_map)", "P", "enter", None, False),
    ("mounts (open_tree, tmpfs, binds, --proc, --dev)", "P", "enter", "mount", False),
    ("lo up (--unshare-net)", "P", "enter", "socket", True),
    ("pivot_root, detach the old root", "P", "enter", "fchdir", False),
    ("pid 1 prepares (env, landlock ruleset, caps)", "P", "leave", "umount2", False),
    ("fork the command", "P", "enter", "clone", False),
    ("command: ids, caps, landlock, seccomp", "C", "enter", None, False),
    ("execve + /bin/true runs and exits", "C", "enter", "execve", False),
    ("pid 1 reaps, reports, exits; supervisor exits", "C", "exit", None, False),
    ("end", "S", "exit", None, False),
]
FLOOR = [
    ("exec floor, start", "S", "exec", None, False),
    ("clone into the new namespaces", "S", "enter", "clone", False),
    ("id maps", "P", "enter", None, False),
    ("execve + /bin/true runs and exits", "P", "enter", "execve", False),
    ("parent reaps, exits", "P", "exit", None, False),
    ("end", "S", "exit", None, False),
]


def find(evs, start, role, kind, name):
    """Index of the first event of `role`, `kind` (and syscall `name`)
    from index `start` on."""
    for i in range(start, len(evs)):
        _, r, k, d = evs[i]
        if r == role and k == kind and (name is None or d == name):
            return i
    raise LookupError(f"{role} {kind} {name}")


def markers(evs, table):
    """[(phase, start time, syscalls of the phase's role in it, forks)]."""
    found = []
    i = 0
    for n, (phase, role, kind, name, optional) in enumerate(table):
        try:
            j = find(evs, i, role, kind, name)
            if optional:
                # Only if it comes before the next marker.
                nxt = table[n + 1]
                if j > find(evs, i, nxt[1], nxt[2], nxt[3]):
                    continue
        except LookupError:
            if optional:
                continue
            raise
        found.append((phase, role, j))
        i = j
    out = []
    for (phase, role, j), (_, nrole, k) in zip(found, found[1:] + [found[-1]]):
        # Calls on the critical path: those of the phase's process when
        # the next marker is in the same one (at a hand-over to another
        # process, its own calls run beside the path).
        calls = sum(1 for e in evs[j:k] if e[1] == role and e[2] == "enter") if nrole == role else 0
        forks = 1 if evs[j][2:] == ("enter", "clone") else 0
        out.append((phase, evs[j][0], calls, forks))
    return out


def main():
    tool = sys.argv[1]
    # What the tracepoints add to each system call (bench/breakdown.sh
    # measures it): subtracted per call of the phase's own process.
    cost = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    fork_cost = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    exe, table = {
        "sandwrap": (r"filename=\S*/sandwrap ", SANDWRAP),
        "floor": (r"filename=\S*/floor ", FLOOR),
    }[tool]
    phases = {}
    totals = []
    skipped = 0
    for evs in launches(sys.stdin, exe):
        try:
            ms = markers(evs, table)
        except LookupError:
            skipped += 1
            continue
        for (name, t, calls, forks), (_, t_next, _, _) in zip(ms, ms[1:]):
            phases.setdefault(name, []).append((t_next - t, calls, forks))
        totals.append(
            (ms[-1][1] - ms[0][1], sum(m[2] for m in ms), sum(m[3] for m in ms))
        )
    if not totals:
        sys.exit(f"breakdown.py: no complete {tool} launch found")
    extra = f" ({skipped} incomplete skipped)" if skipped else ""
    print(
        f"{tool}: {len(totals)} launches{extra}; us, medians; corrected = traced"
        f" - {cost:.2f} us x calls - {fork_cost:.1f} us x forks"
    )
    print(f"  {'phase':50s} {'traced':>8s} {'p25':>8s} {'p75':>8s} {'calls':>6s} {'corrected':>9s}")

    def row(name, v):
        times = sorted(t for t, _, _ in v)
        calls = statistics.median(c for _, c, _ in v)
        forks = statistics.median(f for _, _, f in v)
        q = statistics.quantiles(times, n=4) if len(times) > 1 else [times[0]] * 3
        med = statistics.median(times)
        fixed = med - cost * calls - fork_cost * forks
        print(f"  {name:50s} {med:8.1f} {q[0]:8.1f} {q[2]:8.1f} {calls:6.0f} {fixed:9.1f}")

    for name, v in phases.items():
        row(name, v)
    row("whole launch", totals)


if __name__ == "__main__":
    main()
