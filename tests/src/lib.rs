//! Integration-test harness (in progress).
