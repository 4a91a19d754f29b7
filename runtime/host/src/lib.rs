//! Spin host capabilities (in progress).
