# Builds the outreach binary (pure Go, no cgo) into a small image.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -o /out/outreach ./cmd/outreach

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
# An unprivileged user of its own (docker-compose.yml runs as it), owning
# the store's directory.
RUN groupadd --system --gid 10001 outreach \
	&& useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home outreach \
	&& mkdir -p /data && chown outreach:outreach /data && chmod 700 /data
COPY --from=build /out/outreach /usr/local/bin/outreach
COPY config /app/config
WORKDIR /app
USER 10001:10001
ENTRYPOINT ["outreach"]
