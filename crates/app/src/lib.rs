//! Shared component code (owned by the foundation work).
pub mod integrations;
