# The order service's images (deploy/README.md):
#   docker build -t order-api .                          the API and worker (`order-api serve|migrate`)
#   docker build --target simulator -t order-simulator .  the upstream simulator (local stacks only)
# The release binaries are built from the locked dependencies and the committed query data
# (.sqlx/), so the build needs no database; the migrations are compiled into `order-api migrate`.

FROM rust:1.95.0-slim-bookworm AS build
WORKDIR /src
ENV SQLX_OFFLINE=true CARGO_TERM_COLOR=never
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p order-api -p order-simulator \
    && install -m 0755 target/release/order-api target/release/order-simulator /usr/local/bin/

# Small runtime: glibc and CA certificates only, no shell, running as an unprivileged user.
FROM gcr.io/distroless/cc-debian12:nonroot AS simulator
COPY --from=build /usr/local/bin/order-simulator /usr/local/bin/order-simulator
COPY deploy/local/simulator-seed.json /etc/order-simulator/seed.json
ENV SIMULATOR_ADDR=0.0.0.0:3010 SIMULATOR_SEED_FILE=/etc/order-simulator/seed.json
USER 65532:65532
EXPOSE 3010
ENTRYPOINT ["/usr/local/bin/order-simulator"]

FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
COPY --from=build /usr/local/bin/order-api /usr/local/bin/order-api
ENV HOST=0.0.0.0 PORT=3004 LOG_FORMAT=json
USER 65532:65532
EXPOSE 3004
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/order-api", "health-check"]
ENTRYPOINT ["/usr/local/bin/order-api"]
CMD ["serve"]
