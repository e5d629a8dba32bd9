//! `--keep-env NAME`: an environment operation in command-line order, with
//! its name checked while parsing.

use super::{err, spec};
use crate::spec::EnvOp;

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
