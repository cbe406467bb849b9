# outreach: the two commands a new machine needs are `make run` (try it)
# and `make test` (everything CI runs). See README.md.

GO        ?= go
BIN       := bin/outreach
VAR       := var
export CGO_ENABLED ?= 0

.PHONY: all build run stop test vet fmt-check unit bench deps clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/outreach

# Try it: start Redis, Mailpit (the SMTP server, so nothing reaches a real
# mayor) and Dovecot under ./var/, import the data, run outreach in the
# background and send a first wave. See scripts/run.sh.
run: build
	BIN=$(BIN) scripts/run.sh

# Stop what `make run` started.
stop:
	-@[ -f $(VAR)/outreach.pid ] && kill $$(cat $(VAR)/outreach.pid) 2>/dev/null; rm -f $(VAR)/outreach.pid
	scripts/dev-services.sh stop

# Install what tests and `make run` need (Debian packages, Mailpit).
deps:
	scripts/deps.sh

# Everything CI runs: vet, the gofmt check, and every test with the race
# detector (which needs cgo, whatever the build uses).
test: deps vet fmt-check unit

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './var/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

unit:
	CGO_ENABLED=1 $(GO) test -race -count=1 ./...

# Throughput next to the raw limit measured in the same run, and the ratio.
bench: deps
	@echo "== wave pipeline: 20,000 letters through Redis, SMTP and the store, vs go-mail alone =="
	$(GO) test -run '^$$' -bench 'WavePipeline' -benchtime 1x ./internal/queue/
	@echo "== SMTP delivery through the connection pool, vs one go-mail client =="
	$(GO) test -run '^$$' -bench 'Send' -benchtime 2s ./internal/mailer/
	@echo "== supporters' signatures accepted per second through the HTTP endpoint, confirmation mails queued =="
	$(GO) test -run '^$$' -bench 'Signatures' -benchtime 3s ./internal/web/

clean:
	rm -rf bin
