//! Drug coverage: the drug model, the yearly cost estimate and the money
//! it counts in.

pub mod estimate;
pub mod model;
pub mod money;

pub use model::Drug;
