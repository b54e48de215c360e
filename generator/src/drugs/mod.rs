//! Drug coverage: the yearly cost estimate and the money it counts in.

pub mod estimate;
pub mod money;
