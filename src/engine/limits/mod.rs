//! Resource limits and accounting: rlimits set on the command, the time
//! limit enforced by the supervisor, what the sandbox used, and the cgroup
//! v2 checks.

pub mod cgroup;
pub mod cgroup_lock;
pub mod cgroup_own;
pub mod rlimits;
pub mod timeout;
pub mod usage;
