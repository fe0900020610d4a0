//! stub
pub use matgrad_macros::grad;
pub use matgrad_runtime::*;
