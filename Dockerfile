# syntax=docker/dockerfile:1
#
# incidentbot container image. Build from the repository root:
#
#   docker build -t ghcr.io/incidentbot/incidentbot:latest .
#
# Run (Socket Mode dials out to Slack, so no port needs publishing for Slack
# itself; 8080 only serves /healthz and /readyz):
#
#   docker run -d --name incidentbot \
#     -e SLACK_APP_TOKEN=xapp-... -e SLACK_BOT_TOKEN=xoxb-... \
#     -v incidentbot-data:/data -p 127.0.0.1:8080:8080 \
#     ghcr.io/incidentbot/incidentbot:latest

# ---- build stage -----------------------------------------------------------
# The golang tag's major.minor must match go.mod's `go` directive (the deploy
# tests check it), so the image never has to download a toolchain. bookworm
# rather than alpine: glibc-based and the same Debian release as the
# distroless base below, and we do not ship this stage anyway.
FROM golang:1.26-bookworm AS build

WORKDIR /src

# go.mod and go.sum first, alone: `go mod download` then sits in its own
# layer, cached until the dependencies change, not on every source edit.
COPY go.mod go.sum ./
RUN go mod download

COPY . .

# CGO_ENABLED=0: a static binary (bbolt and everything else is pure Go), so it
#   runs on distroless/static, which has no libc.
# -trimpath: no build-machine paths in the binary or its panics; reproducible.
# -ldflags="-s -w": drop the symbol table and DWARF; a smaller image. Panics
#   still print file:line stack traces.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/incidentbot ./cmd/incidentbot

# The data directory, created here because the final image has no shell to
# mkdir with. It is copied with the nonroot owner below so that a fresh
# Docker volume mounted on /data inherits 65532 as owner and bbolt can create
# its file; without it Docker makes the mount point root-owned and `run`
# fails with "permission denied".
RUN mkdir -p /out/data

# ---- final stage -----------------------------------------------------------
# distroless/static: CA certificates (for https://slack.com and wss://),
# tzdata and /etc/passwd with a `nonroot` user (65532), and nothing else: no
# shell, no package manager, a minimal attack surface and CVE count.
# The :nonroot tag defaults to that user as well.
FROM gcr.io/distroless/static-debian12:nonroot

COPY --from=build /out/incidentbot /usr/local/bin/incidentbot
COPY --from=build --chown=65532:65532 /out/data /data

# INCIDENTBOT_DB lives on the volume so incidents survive a new container.
# INCIDENTBOT_HTTP_ADDR binds all interfaces: the default, 127.0.0.1, would be
# unreachable from outside the container, so probes could never reach it.
ENV INCIDENTBOT_DB=/data/incidentbot.db \
    INCIDENTBOT_HTTP_ADDR=0.0.0.0:8080

# bbolt's database file is the only state; keep it off the container layer.
# Never mount one volume into two containers: bbolt takes an exclusive lock.
VOLUME /data

# Never run as root; the binary needs no privileges (it dials out and listens
# on an unprivileged port).
USER nonroot:nonroot

# /healthz and /readyz only; Slack traffic arrives over the outbound socket.
EXPOSE 8080

# No HEALTHCHECK: the image has no shell or curl to run one, and orchestrators
# (Kubernetes probes, systemd, Nomad, ECS) probe /healthz and /readyz
# themselves.

# ENTRYPOINT is the binary, CMD the subcommand, so `docker run IMAGE config`
# or `docker run IMAGE export …` runs another subcommand without --entrypoint.
ENTRYPOINT ["/usr/local/bin/incidentbot"]
CMD ["run"]
