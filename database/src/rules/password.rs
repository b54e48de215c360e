//! The password hash parameters: the auth-api hashes with them, and the
//! demo seed writes hashes the auth-api accepts as current.

/// argon2id memory cost in KiB (OWASP's first recommendation: 19 MiB).
pub const ARGON2_MEMORY_KIB: u32 = 19 * 1024;
/// argon2id passes over memory.
pub const ARGON2_PASSES: u32 = 2;
/// argon2id lanes.
pub const ARGON2_LANES: u32 = 1;
