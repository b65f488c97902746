//! The OAuth 2.0 authorization server end to end on the paper broker, with a manual clock for lifetimes:
//! the Code flow (with refresh), the Implicit flow, `prompt`, PKCE, logout, ServerOAuth2Bearer, and every
//! refusal of RFC 6749 / RFC 9700 the bridge makes.

mod browserless;
mod code;
mod federated;
mod implicit;
mod refusals;
mod server_bearer;
