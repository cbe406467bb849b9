# outreach: the two commands a new machine needs are `make run` (try it)
# and `make test` (everything CI runs). See README.md.

GO        ?= go
BIN       := bin/outreach
VAR       := var
export CGO_ENABLED ?= 0

.PHONY: all build run stop test vet fmt-check unit hostile fuzz corpus bench deps clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/outreach

# Try it: start Redis, Mailpit (the SMTP server, so nothing reaches a real
# mayor) and Dovecot under ./var/, import the data, run outreach in the
# background and send a first wave. See scripts/run.sh.
run: build
	BIN=$(BIN) scripts/run.sh

# Stop what `make run` started; its Redis goes with its keys and files.
stop:
	-@[ -f $(VAR)/outreach.pid ] && kill $$(cat $(VAR)/outreach.pid) 2>/dev/null; rm -f $(VAR)/outreach.pid
	scripts/dev-services.sh stop

# Install what tests and `make run` need (Debian packages, Mailpit; `make
# run` itself installs only what running needs: no browser).
deps:
	scripts/deps.sh test

# Everything CI runs: vet, the gofmt check, every test with the race
# detector (which needs cgo, whatever the build uses), the hostile-mail
# figures without it, a short fuzz of the mail parser and matcher, and the
# figures of the reply classifier on the corpus.
test: deps vet fmt-check unit hostile fuzz corpus
	@echo "screenshots of every staff page, at 1280 px and at phone width: $(VAR)/screenshots/"

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './var/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

unit:
	CGO_ENABLED=1 $(GO) test -race -count=1 ./...

# Hostile mail (floods, deep nesting, huge headers, every charset, 1 and
# 10 MB) must cost no more than a normal reply of its size: the race
# detector makes allocation figures meaningless, so this runs without it.
hostile:
	$(GO) test -count=1 -run '^TestHostile' ./internal/replies

# Parsing, classifying and matching arbitrary bytes must never panic.
# Minimising each new input for a second rather than the default minute
# leaves the short run to exploring.
FUZZTIME ?= 10s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParseClassify$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s ./internal/replies
	$(GO) test -run '^$$' -fuzz '^FuzzParseClassifyMatch$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s ./internal/replies

# How the classifier does on the corpus of real mail (testdata/corpus).
corpus:
	@out=$$($(GO) test -count=1 -run '^TestClassifyCorpus$$' -v ./internal/replies 2>&1); rc=$$?; \
	echo "corpus classification (internal/replies/testdata/corpus):"; \
	echo "$$out" | grep -E '^ +classify_test.go:[0-9]+: (bounce|auto-reply|human|bounce recipients found|hard bounces|soft bounces|delay warnings)' | sed 's/^ *classify_test.go:[0-9]*: /  /'; \
	if [ $$rc -ne 0 ]; then echo "$$out"; exit $$rc; fi

# Throughput next to the raw limit measured in the same run, and the ratio.
bench: deps
	@echo "== wave pipeline: 20,000 letters through Redis, SMTP and the store, vs go-mail alone =="
	$(GO) test -run '^$$' -bench 'WavePipeline' -benchtime 1x ./internal/queue/
	@echo "== creating a wave of 100,000 letters, each rendered first (wall and processor time) =="
	$(GO) test -run '^$$' -bench 'CreateWave100k' -benchtime 1x ./internal/queue/
	@echo "== SMTP delivery through the connection pool, vs one go-mail client =="
	$(GO) test -run '^$$' -bench 'Send' -benchtime 2s ./internal/mailer/
	@echo "== replies: 10,000 messages in Dovecot fetched, classified, matched and stored, vs go-imap fetching alone =="
	$(GO) test -run '^$$' -bench . -benchtime 1x ./internal/inbox/
	@echo "== hostile mail: 10 MB floods, nesting, headers and charsets read (parse, classify, match), vs normal replies of the same size =="
	$(GO) test -run '^$$' -bench 'Hostile' -benchtime 3x ./internal/replies/
	@echo "== supporters' signatures accepted per second through the HTTP endpoint, confirmation mails queued =="
	$(GO) test -run '^$$' -bench 'Signatures' -benchtime 3s ./internal/web/

clean:
	rm -rf bin
