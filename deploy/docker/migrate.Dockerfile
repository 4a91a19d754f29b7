# syntax=docker/dockerfile:1
# rh-migrate's image, for the migrations Job (deploy/migrate). Build from the repository root:
#   docker build -f deploy/docker/migrate.Dockerfile -t <registry>/rankedhonor/migrate:<version> .
# The migrations are compiled into the binary (tools/migrate/build.rs), so the image needs
# nothing else: a new migration means a new image, tagged like the release it belongs to.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p rh-migrate \
    && install -D target/release/rh-migrate /out/rh-migrate

FROM debian:bookworm-slim
COPY --from=build /out/rh-migrate /usr/local/bin/rh-migrate
USER 10001:10001
# The URL (with the migration account's password) comes from RH_MIGRATE_URL, never a flag.
ENTRYPOINT ["/usr/local/bin/rh-migrate"]
CMD ["run"]
