//! The man page's PROFILES section, kept next to the code it describes.

/// One paragraph: an empty tag is plain text, else a tagged item.
pub type Paragraph = (&'static str, &'static str);

/// How profiles work.
pub const RULES: &[Paragraph] = &[
    (
        "",
        "--profile NAME|FILE applies a profile: a TOML file whose keys are sandwrap's option \
         names without the leading --. The profile turns into the options it names, read where \
         --profile stands, so options after it refine it (--profile untrusted --share-net) and \
         --profile can be repeated. --explain prints the resolved sandbox (every mount in \
         order, namespaces, ids, environment changes, the seccomp policy, the landlock rules) \
         and a plain sandwrap command line that builds the same sandbox, without running \
         anything; the COMMAND may then be left out.",
    ),
    (
        "Lookup",
        "NAME is looked up among the built-in profiles, then as \
         $XDG_CONFIG_HOME/sandwrap/profiles/NAME.toml (default ~/.config/sandwrap/profiles), \
         then as /etc/sandwrap/profiles/NAME.toml. A value that contains / or ends in .toml is \
         a file. --list-profiles shows every profile found, in that order.",
    ),
    (
        "flag = true",
        "An option without a value, such as unshare-all = true. false leaves it out.",
    ),
    (
        "name = \"value\"",
        "An option with one value. An array of strings gives the option once per value: \
         unsetenv = [\"A\", \"B\"]. --uid, --gid, --size and port lists may also be written \
         as integers.",
    ),
    (
        "name = [\"a\", \"b\"]",
        "An option with several values, given once; an array of such arrays gives it once per \
         array: setenv = [[\"LANG\", \"C\"], [\"TZ\", \"UTC\"]].",
    ),
    (
        "mounts = [[\"OPTION\", VALUE...], ...]",
        "The filesystem options, in the order they apply: mounts = [[\"ro-bind\", \"/usr\", \
         \"/usr\"], [\"tmpfs\", \"/tmp\"]]. Filesystem options are accepted only here, because \
         their order matters; --perms and --size go just before the entry they modify.",
    ),
    (
        "include = [\"NAME\", ...]",
        "Applies other profiles (names, or files relative to the including profile) at that \
         point. Including a profile that is already being applied is an include loop, an error. \
         Includes nest at most 16 deep, and one command line loads at most 64 profiles in all \
         (includes and repeated --profile counted).",
    ),
    ("description = \"...\"", "Shown by --list-profiles."),
    ("Order", "Keys apply in the order they appear in the file."),
    (
        "Values",
        "A leading ~, and $HOME, $PWD (the current directory), $XDG_RUNTIME_DIR (default \
         /run/user/$UID), $UID, $APP (the basename of COMMAND) and $WAYLAND_DISPLAY (default \
         wayland-0), written $NAME or ${NAME}, are replaced; $$ is a $. Any other $NAME is an \
         error: there is no templating.",
    ),
    (
        "Not in profiles",
        "Options that take a file descriptor, --profile (use include), --help, --version, \
         --list-profiles and --explain.",
    ),
    (
        "Errors",
        "A bad profile stops sandwrap before anything runs, with one message naming the file, \
         the line and the key, and what was expected. A profile file must be a regular file \
         (a FIFO or device is refused without being read) of at most 1 MiB, in UTF-8; no \
         key or value may contain NUL (\\u0000).",
    ),
];

/// The built-in profiles (their TOML is in the source tree, profiles/).
pub const BUILTIN_DOCS: &[Paragraph] = &[
    (
        "base",
        "All namespaces (--unshare-all), --die-with-parent, --new-session, the default seccomp \
         policy, landlock rules derived from the mounts (--landlock); the host's /usr and /etc \
         read-only, /bin, /sbin, /lib, /lib32, /lib64 and /libx32 as on the host (symlinks on \
         a merged-/usr system, else read-only binds: --ro-bind-as-host), a new /dev and /proc, \
         private /tmp (1 GiB) and /var/tmp (256 MiB), and an empty home (a tmpfs of 1 GiB on \
         $HOME). The common ground of the others.",
    ),
    (
        "untrusted",
        "base, and the current directory read-write (and the working directory), except what \
         the host runs there by itself, which stays read-only where it exists (--protect, which \
         does not follow a symlink there): version control \
         metadata (.git, .hg, .svn, .bzr, .jj), hooks wired to it (.husky, .githooks, \
         .pre-commit-config.yaml), what entering the directory runs (.envrc, .direnv, \
         mise.toml, .mise.toml) and what opening it in an editor runs (.vscode, .idea, \
         .devcontainer, .nvim.lua, .nvimrc, .exrc). Only at the top of the directory, and only \
         those that exist: the command can create a missing one (a new .git there makes the \
         directory a repository of its own for the host's next git command). A clean \
         environment (--clearenv) that keeps PATH, HOME, USER, LOGNAME, SHELL, LANG, \
         LANGUAGE, LC_*, TZ, TERM, COLORTERM and NO_COLOR; add more with a later --keep-env. \
         --end-with-command: nothing the command starts outlives it. No network. Run from your home directory, this exposes all of it.",
    ),
    (
        "build",
        "untrusted, and the download caches read-write when they exist: ~/.cargo/registry, \
         ~/.cargo/git, ~/go/pkg/mod and ~/.npm/_cacache, except the bare git clones there \
         (~/.cargo/git/db, ~/go/pkg/mod/cache/vcs), read-only since nothing is fetched without \
         network (the host's git runs their hooks and config at its next fetch); the Rust \
         toolchain read-only (~/.cargo/bin, ~/.rustup). Nothing else of ~/.cargo, ~/go, ~/.npm or ~/.cache: what \
         the host runs (~/.cargo/bin, ~/go/bin), reads as configuration (~/.cargo/config.toml, \
         ~/.cargo/env) or as a secret (~/.cargo/credentials.toml, ~/.npmrc), and caches \
         trusted without checksums (Go's build cache) stay out; a build writes ~/.cache in the \
         empty home. Keeps CC, CXX, CFLAGS, CXXFLAGS, CPPFLAGS, LDFLAGS, MAKEFLAGS, RUSTFLAGS, \
         RUSTUP_TOOLCHAIN and GOFLAGS from the environment. No network. The download caches \
         remain a way back to the host: what a build leaves there (extracted crate sources, \
         Go modules, git checkouts) is used by the host's later builds; a later \
         --ro-bind-try of a cache makes it read-only.",
    ),
    (
        "ci",
        "build with a network of its own through pasta (--network pasta: the internet, not \
         the host's loopback services; needs pasta and a usable /dev/net/tun, --network host \
         after it shares the host's network instead), outbound TCP connections limited to \
         ports 80 and 443 by landlock (--landlock-tcp-connect 80,443; a later \
         --landlock-tcp-connect adds ports), and the host's abstract unix sockets (X11's \
         @/tmp/.X11-unix/X0, ...) cut off (--landlock-scope abstract-unix). The bare git \
         clones are writable again, since fetching writes them: a ci run can leave hooks \
         there that the host's git runs at its next fetch into them (cargo with \
         net.git-fetch-with-cli, go for direct modules). A proxy in https_proxy needs \
         --keep-env https_proxy. Limits: at most 8192 processes and threads in the sandbox \
         (--rlimit nproc=8192, counted in the sandbox's user namespace only), 16384 open \
         files per process (nofile=16384), no core dumps (core=0); a later --rlimit for the \
         same resource replaces one. The hard limits cannot exceed the caller's.",
    ),
    (
        "desktop",
        "base, with a persistent home of the application's own, \
         ~/.local/share/sandwrap/APP where APP is the basename of COMMAND (created, mode 0700, \
         on first use: --bind-mkdir), the X11 sockets (/tmp/.X11-unix, ~/.Xauthority), the \
         Wayland, PipeWire and PulseAudio sockets in $XDG_RUNTIME_DIR, the user's fonts and \
         themes read-only, /dev/dri and the sysfs entries Mesa needs. No network: add \
         --share-net for an application that needs it.",
    ),
];
