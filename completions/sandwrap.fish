complete -c sandwrap -l args -d 'Parse NUL-separated args from FD' -r -f
complete -c sandwrap -l argv0 -d 'Set argv[0] to the value VALUE before running the program' -r -f
complete -c sandwrap -l userns -d 'Use this user namespace (cannot combine with --unshare-user)' -r -f
complete -c sandwrap -l userns2 -d 'After setup switch to this user namespace, only useful with --userns' -r -f
complete -c sandwrap -l pidns -d 'Use this pid namespace (as parent namespace if using --unshare-pid)' -r -f
complete -c sandwrap -l uid -d 'Custom uid in the sandbox (requires --unshare-user or --userns)' -r -f
complete -c sandwrap -l gid -d 'Custom gid in the sandbox (requires --unshare-user or --userns)' -r -f
complete -c sandwrap -l hostname -d 'Custom hostname in the sandbox (requires --unshare-uts)' -r -f
complete -c sandwrap -l chdir -d 'Change directory to DIR' -r -f -a "(__fish_complete_directories)"
complete -c sandwrap -l setenv -d 'Set an environment variable' -r -f
complete -c sandwrap -l unsetenv -d 'Unset an environment variable' -r -f
complete -c sandwrap -l lock-file -d 'Take a lock on DEST while sandbox is running' -r -F
complete -c sandwrap -l sync-fd -d 'Keep this fd open while sandbox is running' -r -f
complete -c sandwrap -l bind -d 'Bind mount the host path SRC on DEST' -r -F
complete -c sandwrap -l bind-try -d 'Equal to --bind but ignores non-existent SRC' -r -F
complete -c sandwrap -l dev-bind -d 'Bind mount the host path SRC on DEST, allowing device access' -r -F
complete -c sandwrap -l dev-bind-try -d 'Equal to --dev-bind but ignores non-existent SRC' -r -F
complete -c sandwrap -l ro-bind -d 'Bind mount the host path SRC readonly on DEST' -r -F
complete -c sandwrap -l ro-bind-try -d 'Equal to --ro-bind but ignores non-existent SRC' -r -F
complete -c sandwrap -l bind-fd -d 'Bind open directory or path fd on DEST' -r -F
complete -c sandwrap -l ro-bind-fd -d 'Bind open directory or path fd read-only on DEST' -r -F
complete -c sandwrap -l remount-ro -d 'Remount DEST as readonly; does not recursively remount' -r -F
complete -c sandwrap -l overlay-src -d 'Read files from SRC in the following overlay' -r -F
complete -c sandwrap -l overlay -d 'Mount overlayfs on DEST, with RWSRC as the host path for writes and WORKDIR an empty directory on the same filesystem as RWSRC' -r -F
complete -c sandwrap -l tmp-overlay -d 'Mount overlayfs on DEST, with writes going to an invisible tmpfs' -r -F
complete -c sandwrap -l ro-overlay -d 'Mount overlayfs read-only on DEST' -r -F
complete -c sandwrap -l exec-label -d 'Exec label for the sandbox' -r -f
complete -c sandwrap -l file-label -d 'File label for temporary sandbox content' -r -f
complete -c sandwrap -l proc -d 'Mount new procfs on DEST' -r -F
complete -c sandwrap -l dev -d 'Mount new dev on DEST' -r -F
complete -c sandwrap -l tmpfs -d 'Mount new tmpfs on DEST' -r -F
complete -c sandwrap -l mqueue -d 'Mount new mqueue on DEST' -r -F
complete -c sandwrap -l dir -d 'Create dir at DEST' -r -F
complete -c sandwrap -l file -d 'Copy from FD to destination DEST' -r -F
complete -c sandwrap -l bind-data -d 'Copy from FD to file which is bind-mounted on DEST' -r -F
complete -c sandwrap -l ro-bind-data -d 'Copy from FD to file which is readonly bind-mounted on DEST' -r -F
complete -c sandwrap -l symlink -d 'Create symlink at DEST with target SRC' -r -F
complete -c sandwrap -l seccomp -d 'Load and use seccomp rules from FD (not repeatable)' -r -f
complete -c sandwrap -l add-seccomp-fd -d 'Load and use seccomp rules from FD (repeatable)' -r -f
complete -c sandwrap -l block-fd -d 'Block on FD until some data to read is available' -r -f
complete -c sandwrap -l userns-block-fd -d 'Block on FD until the user namespace is ready' -r -f
complete -c sandwrap -l info-fd -d 'Write information about the running container to FD' -r -f
complete -c sandwrap -l json-status-fd -d 'Write container status to FD as multiple JSON documents' -r -f
complete -c sandwrap -l cap-add -d 'Add cap CAP when running as privileged user' -r -f -a "CAP_CHOWN\t''
CAP_DAC_OVERRIDE\t''
CAP_DAC_READ_SEARCH\t''
CAP_FOWNER\t''
CAP_FSETID\t''
CAP_KILL\t''
CAP_SETGID\t''
CAP_SETUID\t''
CAP_SETPCAP\t''
CAP_LINUX_IMMUTABLE\t''
CAP_NET_BIND_SERVICE\t''
CAP_NET_BROADCAST\t''
CAP_NET_ADMIN\t''
CAP_NET_RAW\t''
CAP_IPC_LOCK\t''
CAP_IPC_OWNER\t''
CAP_SYS_MODULE\t''
CAP_SYS_RAWIO\t''
CAP_SYS_CHROOT\t''
CAP_SYS_PTRACE\t''
CAP_SYS_PACCT\t''
CAP_SYS_ADMIN\t''
CAP_SYS_BOOT\t''
CAP_SYS_NICE\t''
CAP_SYS_RESOURCE\t''
CAP_SYS_TIME\t''
CAP_SYS_TTY_CONFIG\t''
CAP_MKNOD\t''
CAP_LEASE\t''
CAP_AUDIT_WRITE\t''
CAP_AUDIT_CONTROL\t''
CAP_SETFCAP\t''
CAP_MAC_OVERRIDE\t''
CAP_MAC_ADMIN\t''
CAP_SYSLOG\t''
CAP_WAKE_ALARM\t''
CAP_BLOCK_SUSPEND\t''
CAP_AUDIT_READ\t''
CAP_PERFMON\t''
CAP_BPF\t''
CAP_CHECKPOINT_RESTORE\t''
ALL\t''"
complete -c sandwrap -l cap-drop -d 'Drop cap CAP when running as privileged user' -r -f -a "CAP_CHOWN\t''
CAP_DAC_OVERRIDE\t''
CAP_DAC_READ_SEARCH\t''
CAP_FOWNER\t''
CAP_FSETID\t''
CAP_KILL\t''
CAP_SETGID\t''
CAP_SETUID\t''
CAP_SETPCAP\t''
CAP_LINUX_IMMUTABLE\t''
CAP_NET_BIND_SERVICE\t''
CAP_NET_BROADCAST\t''
CAP_NET_ADMIN\t''
CAP_NET_RAW\t''
CAP_IPC_LOCK\t''
CAP_IPC_OWNER\t''
CAP_SYS_MODULE\t''
CAP_SYS_RAWIO\t''
CAP_SYS_CHROOT\t''
CAP_SYS_PTRACE\t''
CAP_SYS_PACCT\t''
CAP_SYS_ADMIN\t''
CAP_SYS_BOOT\t''
CAP_SYS_NICE\t''
CAP_SYS_RESOURCE\t''
CAP_SYS_TIME\t''
CAP_SYS_TTY_CONFIG\t''
CAP_MKNOD\t''
CAP_LEASE\t''
CAP_AUDIT_WRITE\t''
CAP_AUDIT_CONTROL\t''
CAP_SETFCAP\t''
CAP_MAC_OVERRIDE\t''
CAP_MAC_ADMIN\t''
CAP_SYSLOG\t''
CAP_WAKE_ALARM\t''
CAP_BLOCK_SUSPEND\t''
CAP_AUDIT_READ\t''
CAP_PERFMON\t''
CAP_BPF\t''
CAP_CHECKPOINT_RESTORE\t''
ALL\t''"
complete -c sandwrap -l perms -d 'Set permissions of next argument (--bind-data, --file, etc.)' -r -f
complete -c sandwrap -l size -d 'Set size of next argument (only for --tmpfs)' -r -f
complete -c sandwrap -l chmod -d 'Change permissions of PATH (must already exist)' -r -F
complete -c sandwrap -l landlock-ro -d 'Landlock: allow reading and executing beneath PATH (explicit rules replace the derived ones; a relative PATH is from the working directory)' -r -F
complete -c sandwrap -l landlock-rw -d 'Landlock: allow reading, writing and executing beneath PATH' -r -F
complete -c sandwrap -l landlock-ro-noexec -d 'Landlock: allow only reading beneath PATH' -r -F
complete -c sandwrap -l landlock-rw-noexec -d 'Landlock: allow reading and writing, not executing, beneath PATH' -r -F
complete -c sandwrap -l landlock-tcp-connect -d 'Landlock: allow TCP connect only to PORTS (e.g. 80,8000-8100, or none)' -r -f
complete -c sandwrap -l landlock-tcp-bind -d 'Landlock: allow TCP bind only to PORTS (e.g. 8080, or none)' -r -f
complete -c sandwrap -l landlock-scope -d 'Landlock: cut off abstract-unix sockets and/or signal delivery outside the sandbox' -r -f
complete -c sandwrap -l fallback -d 'Without user namespaces, run confined by MODE (landlock) instead of failing' -r -f
complete -c sandwrap -l seccomp-policy -d 'Filter system calls with a preset (default, strict) or a TOML policy file' -r -F
complete -c sandwrap -l seccomp-allow -d 'Allow SYSCALL (name or number) on top of the seccomp policy' -r -f
complete -c sandwrap -l seccomp-deny -d 'Deny SYSCALL with ERRNO (default EPERM) or :kill on top of the policy' -r -f
complete -c sandwrap -l seccomp-report-fd -d 'Write a line to FD for every system call the policy denies' -r -f
complete -c sandwrap -l profile -d 'Apply profile NAME (or a .toml FILE) here; later options refine it' -r -f -a "base\t''
untrusted\t''
build\t''
ci\t''
desktop\t''"
complete -c sandwrap -l ro-bind-as-host -d 'Reproduce host PATH: a symlink stays a symlink, else bind it read-only; skip if missing' -r -F
complete -c sandwrap -l bind-mkdir -d 'Equal to --bind, creating host directory SRC (mode 0700) if missing' -r -F
complete -c sandwrap -l protect -d 'Bind host PATH read-only onto PATH if it exists and is not a symlink (e.g. .git in a --bind; a .git also protects its submodules\' .git)' -r -F
complete -c sandwrap -l keep-env -d 'Set NAME (or each NAME* variable) to the caller\'s value, e.g. after --clearenv' -r -f
complete -c sandwrap -l rlimit -d 'Set resource limit NAME (as prlimit names it: nofile, nproc, core, as, ...) for the command' -r -f
complete -c sandwrap -l timeout -d 'After DURATION (90s, 5m, 1h) send SIGTERM to the whole sandbox (implies --unshare-pid); exit status 124' -r -f
complete -c sandwrap -l kill-after -d 'With --timeout: SIGKILL everything left DURATION after the SIGTERM (default 5s)' -r -f
complete -c sandwrap -l memory -d 'cgroup v2 memory.max for the whole sandbox (needs a delegated cgroup v2)' -r -f
complete -c sandwrap -l memory-swap -d 'cgroup v2 memory.swap.max for the whole sandbox (needs a delegated cgroup v2)' -r -f
complete -c sandwrap -l pids-max -d 'cgroup v2 pids.max for the whole sandbox (needs a delegated cgroup v2)' -r -f
complete -c sandwrap -l cpus -d 'cgroup v2 cpu.max: at most FLOAT CPUs\' worth of time (needs a delegated cgroup v2)' -r -f
complete -c sandwrap -l control-fd -d 'First option only: a SOCK_SEQPACKET socket from a program using sandwrap as a library; caller fds arrive on it, errors and the command\'s status go back, and its EOF ends the sandbox (docs/library.md)' -r -f
complete -c sandwrap -l network -d 'Network: none (= --unshare-net), host (= --share-net) or pasta (own namespace with internet access through pasta, host loopback unreachable)' -r -f
complete -c sandwrap -l publish -d 'With --network pasta: forward HOST_PORT on the host (default address: loopback) to SANDBOX_PORT (UDP: the same port)' -r -f
complete -c sandwrap -l time-offset -d 'Shift the sandbox\'s CLOCK (monotonic, boottime) by SECONDS; implies --unshare-time' -r -f
complete -c sandwrap -l map-subids-count -d 'Map only N subordinate ids; implies --map-subids' -r -f
complete -c sandwrap -l help -d 'Print this help'
complete -c sandwrap -l version -d 'Print version'
complete -c sandwrap -l level-prefix -d 'Prepend e.g. <3> to diagnostic messages'
complete -c sandwrap -l unshare-all -d 'Unshare every namespace we support by default'
complete -c sandwrap -l share-net -d 'Retain the network namespace (can only combine with --unshare-all)'
complete -c sandwrap -l unshare-user -d 'Create new user namespace (may be automatically implied if not setuid)'
complete -c sandwrap -l unshare-user-try -d 'Create new user namespace if possible else continue by skipping it'
complete -c sandwrap -l unshare-ipc -d 'Create new ipc namespace'
complete -c sandwrap -l unshare-pid -d 'Create new pid namespace'
complete -c sandwrap -l unshare-net -d 'Create new network namespace'
complete -c sandwrap -l unshare-uts -d 'Create new uts namespace'
complete -c sandwrap -l unshare-cgroup -d 'Create new cgroup namespace'
complete -c sandwrap -l unshare-cgroup-try -d 'Create new cgroup namespace if possible else continue by skipping it'
complete -c sandwrap -l disable-userns -d 'Disable further use of user namespaces inside sandbox'
complete -c sandwrap -l assert-userns-disabled -d 'Fail unless further use of user namespace inside sandbox is disabled'
complete -c sandwrap -l clearenv -d 'Unset all environment variables'
complete -c sandwrap -l new-session -d 'Create a new terminal session'
complete -c sandwrap -l die-with-parent -d 'Kills with SIGKILL child process (COMMAND) when sandwrap or sandwrap\'s parent dies.'
complete -c sandwrap -l as-pid-1 -d 'Do not install a reaper process with PID=1'
complete -c sandwrap -l not-a-security-boundary -d 'Treat some setup failures (e.g. remounting submounts) as warnings instead of errors'
complete -c sandwrap -l landlock -d 'Confine the command with landlock rules derived from the filesystem options'
complete -c sandwrap -l landlock-strict -d 'Fail instead of warning when landlock cannot enforce something'
complete -c sandwrap -l verbose -d 'On stderr: what landlock enforces, and the system call behind an error'
complete -c sandwrap -l end-with-command -d 'End everything COMMAND started when it exits, and the sandbox when sandwrap dies'
complete -c sandwrap -l seccomp-report -d 'Print a line on stderr for every system call the policy denies'
complete -c sandwrap -l list-profiles -d 'List the profiles --profile can find, then exit'
complete -c sandwrap -l explain -d 'Print the resolved sandbox and an equivalent command line; run nothing'
complete -c sandwrap -l own-cgroup -d 'Run the sandbox in a cgroup v2 of its own (needs a delegated cgroup v2): its usage is accounted as a whole, and everything in it is killed at the end'
complete -c sandwrap -l json-usage -d 'After the exit code, write wall time, CPU time and peak memory to --json-status-fd'
complete -c sandwrap -l network-allow-host-loopback -d 'With --network pasta: let the gateway address reach the host\'s loopback services'
complete -c sandwrap -l unshare-time -d 'Create new time namespace (not part of --unshare-all)'
complete -c sandwrap -l map-subids -d 'Map uid/gid 0 to the caller and 1..N to the caller\'s /etc/subuid, /etc/subgid ranges (newuidmap)'
