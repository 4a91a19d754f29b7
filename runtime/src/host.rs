//! The seam to `rh-spin-host` (Spin's host capabilities: MySQL, Redis, variables, key-value,
//! outbound-host rules). The runtime names these types through this module only, so the
//! triggers do not depend on where the host capabilities live.

pub use rh_spin_host::outbound::AllowedHosts;
pub use rh_spin_host::runtime_config::RuntimeConfig;
pub use rh_spin_host::{add_to_linker, ComponentHostConfig, HostServices, SpinHostState};
