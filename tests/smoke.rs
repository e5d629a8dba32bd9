//! The README's first example works as an unprivileged user.
mod common;
use common::*;

#[test]
fn ro_root_dev_proc_unshare_all_runs_id() {
    let (code, out, err) = run(&[
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--unshare-all",
        "--",
        "id",
        "-u",
    ]);
    assert_eq!(code, 0, "stderr: {err}");
    assert_eq!(out.trim(), caller_uid().to_string());
}
