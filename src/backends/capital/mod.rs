//! Capital.com backend (in progress): wire types and error mapping.
pub mod errors;
pub mod model;
pub mod stream;
