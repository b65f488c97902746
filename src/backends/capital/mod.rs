//! Capital.com backend (in progress): wire types and error mapping.
pub mod convert;
pub mod errors;
pub mod model;
