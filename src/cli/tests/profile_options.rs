//! sandwrap's own options that the built-in profiles use: `--keep-env
//! NAME`, an environment operation in command-line order with its name
//! checked while parsing, and `--protect PATH`.

use std::path::PathBuf;

use super::{err, spec};
use crate::spec::{BindMode, EnvOp, FsOp};

#[test]
fn keep_env_is_an_ordered_env_op() {
    let words: Vec<&str> = "--setenv A 1 --clearenv --keep-env PATH --keep-env LC_* true"
        .split(' ')
        .collect();
    let s = spec(&words);
    assert_eq!(
        s.env,
        vec![
            EnvOp::Set("A".into(), "1".into()),
            EnvOp::Clear,
            EnvOp::Keep("PATH".into()),
            EnvOp::Keep("LC_*".into()),
        ]
    );
    assert_eq!(
        spec(&["--keep-env", "*", "true"]).env,
        vec![EnvOp::Keep("*".into())]
    );
}

#[test]
fn keep_env_refuses_names_no_variable_has() {
    assert_eq!(
        err(&["--keep-env", "", "true"]),
        "--keep-env '': the name is empty"
    );
    assert_eq!(
        err(&["--keep-env", "A=B", "true"]),
        "--keep-env A=B: a variable name cannot contain ="
    );
    assert_eq!(
        err(&["--keep-env", "A*B*", "true"]),
        "--keep-env 'A*B*': * may only end the name (a prefix pattern, e.g. LC_*)"
    );
    assert_eq!(err(&["--keep-env"]), "--keep-env takes an argument");
}

#[test]
fn protect_is_a_read_only_bind_onto_itself_that_does_not_follow() {
    let s = spec(&["--bind", "/p", "/p", "--protect", "/p/.git", "true"]);
    assert_eq!(
        s.ops[1],
        FsOp::Bind {
            src: "/p/.git".into(),
            dest: "/p/.git".into(),
            mode: BindMode::ReadOnly,
            allow_missing: true,
        }
    );
    assert_eq!(s.no_follow, [PathBuf::from("/p/.git")]);
    // A plain bind follows as bwrap's does.
    assert!(
        spec(&["--ro-bind-try", "/p/.git", "/p/.git", "true"])
            .no_follow
            .is_empty()
    );
    assert_eq!(err(&["--protect"]), "--protect takes an argument");
    for bad in ["", ".git", "p/.git"] {
        let quoted = if bad.is_empty() { "''" } else { bad };
        assert_eq!(
            err(&["--protect", bad, "true"]),
            format!(
                "--protect {quoted}: the path must be absolute (it names the same place on the host and in the sandbox)"
            )
        );
    }
}
