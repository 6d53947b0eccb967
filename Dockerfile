# Jarimu: one static binary on distroless.
#
#   docker build -t jarimu:local .
#   docker run --rm -p 8080:8080 -v jarimu-data:/data jarimu:local            # embedded mode (SQLite in /data)
#   docker run --rm jarimu:local help                                         # every setting
#
# Scaled mode (PostgreSQL + Redis, two instances behind a load balancer) is compose.yaml.
#
# Health: the final image has no shell, curl or wget, and jarimu has no health
# subcommand, so this image declares no HEALTHCHECK (one that cannot run would
# only ever report "unhealthy"). Whoever routes traffic checks it over HTTP
# instead: GET /healthz (process alive) and GET /readyz (can serve: database and
# Redis answer, not draining). In compose.yaml the load balancer does that
# actively every 2 s, and the load balancer container carries the healthcheck.

# ---- build ------------------------------------------------------------------
FROM golang:1.26-bookworm AS build
WORKDIR /src
# The image pins GOTOOLCHAIN=local; should a cached golang:1.26 be older than
# the patch release go.mod asks for, fetch that toolchain instead of failing.
ENV GOTOOLCHAIN=auto

# Modules first: this layer is reused until go.mod/go.sum change.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download -x

COPY . .
# The SQLite driver is pure Go, so the binary is fully static.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/jarimu ./cmd/jarimu \
 && mkdir -p /out/data

# ---- run --------------------------------------------------------------------
FROM gcr.io/distroless/static-debian12:nonroot

COPY --from=build /out/jarimu /jarimu
# An empty /data owned by the non-root user (65532), so a fresh named volume
# mounted there starts out writable by it.
COPY --from=build --chown=65532:65532 /out/data /data

ENV JARIMU_ADDR=0.0.0.0:8080 \
    JARIMU_DATA_DIR=/data \
    JARIMU_LOG_FORMAT=json

USER 65532:65532
EXPOSE 8080
VOLUME ["/data"]

ENTRYPOINT ["/jarimu"]
CMD ["serve"]
