# Builds the outreach binary (pure Go, no cgo) into a small image.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -o /out/outreach ./cmd/outreach

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/outreach /usr/local/bin/outreach
COPY config /app/config
WORKDIR /app
ENTRYPOINT ["outreach"]
