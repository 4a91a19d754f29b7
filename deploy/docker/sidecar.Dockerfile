# syntax=docker/dockerfile:1
# rh-sidecar's image. Build from the repository root (docs/deploy.md):
#   docker build -f deploy/docker/sidecar.Dockerfile -t <registry>/rankedhonor/sidecar:<version> .
# Two stages: the toolchain builds the binary, and the image that ships holds only the
# binary on a slim Debian (glibc, as it was linked against) and runs as a non-root user.

# The workspace's rust-version (Cargo.toml); Debian 12 matches the runtime stage's glibc.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# The whole workspace: cargo needs every member's manifest to resolve Cargo.lock.
COPY . .
# --locked: exactly the dependency versions the tests ran with.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p rh-sidecar \
    && install -D target/release/rh-sidecar /out/rh-sidecar

FROM debian:bookworm-slim
COPY --from=build /out/rh-sidecar /usr/local/bin/rh-sidecar
# A numeric user, so Kubernetes can verify runAsNonRoot without a passwd entry; the
# manifests also run it with a read-only root filesystem (it writes nothing).
USER 10001:10001
# In a container the sidecar must listen on every address (its default is loopback).
ENV RH_SIDECAR_LISTEN=0.0.0.0:8001
# Prometheus metrics (GET /metrics) on a port of their own; unset, the sidecar serves none.
EXPOSE 8001 9465
# SIGTERM makes it close every client with 1001, then exit (docs/websocket.md).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/rh-sidecar"]
