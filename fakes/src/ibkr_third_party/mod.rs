//! A fake of Interactive Brokers' Third-Party Web API v1: a registered consumer, the three-legged OAuth
//! 1.0a grant with an authorization page of its own, the live session token, and the FIX-style resources
//! on a stateful engine. Written from IBKR's documents, never from the bridge.
