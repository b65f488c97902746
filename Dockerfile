# syntax=docker/dockerfile:1
# Multi-stage build: compile in the Rust image, run as a non-root user in a small Debian image.
FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
RUN cargo build --release --locked --bin tvbridge

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin tvbridge \
    && mkdir -p /app/state \
    && chown tvbridge /app/state
WORKDIR /app
COPY --from=build /src/target/release/tvbridge /usr/local/bin/tvbridge
COPY config ./config
USER 10001
# Inside a container the server must listen on all interfaces; everything else comes from
# config/default.toml and TVBRIDGE__* variables.
ENV TVBRIDGE__SERVER__LISTEN=0.0.0.0:8080
EXPOSE 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["tvbridge"]
CMD ["serve"]
