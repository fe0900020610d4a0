//! From `syn` to the IR: the attribute, the signature, the body.

pub mod attr;
pub mod body;
pub mod helper;
pub mod signature;
