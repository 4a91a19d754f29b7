//! Spin-compatible runtime (in progress).
