# syntax=docker/dockerfile:1
# Multi-stage build: compile in the Rust image, run as a non-root user in a small Debian image.
FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
# The workspace's other member (the test-only fakes) must be there for cargo to read the workspace; an empty
# library stands for it, as the release binary never builds it.
COPY fakes/Cargo.toml ./fakes/
# The dependencies first, in a layer of their own, built against a placeholder crate: a change to src/ then
# rebuilds only tvbridge itself, not its ~250 dependencies.
RUN mkdir src fakes/src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs fakes/src/lib.rs \
    && cargo build --release --locked --bin tvbridge \
    && rm -rf src
COPY src ./src
# config/default.toml is compiled into the binary (the built-in demo configuration).
COPY config ./config
# COPY keeps the files' own times, which may be older than the placeholder's build: touch them so cargo
# rebuilds the crate.
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked --bin tvbridge

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin tvbridge \
    && mkdir -p /app/state \
    && chown tvbridge /app/state
WORKDIR /app
COPY --from=build /src/target/release/tvbridge /usr/local/bin/tvbridge
# The example configurations, for `--config /app/config/<backend>.example.toml` or as a starting point.
COPY config ./config
USER 10001
# Inside a container the server must listen on all interfaces. The built-in demo login refuses to run on
# them: give your users with TVBRIDGE__AUTH__USERS, or a file with TVBRIDGE_CONFIG / --config.
ENV TVBRIDGE__SERVER__LISTEN=0.0.0.0:8080
EXPOSE 8080
STOPSIGNAL SIGTERM
# The image has no curl: the binary probes its own /readyz.
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 CMD ["tvbridge", "health"]
ENTRYPOINT ["tvbridge"]
CMD ["serve"]
