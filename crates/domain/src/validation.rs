//! Validation newtypes for user input (owned by the foundation work).
