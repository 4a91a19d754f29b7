//! JWT tokens (owned by the foundation work).
