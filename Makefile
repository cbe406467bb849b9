# outreach: the two commands a new machine needs are `make run` (try it)
# and `make test` (everything CI runs). See README.md.

GO        ?= go
BIN       := bin/outreach
VAR       := var
export CGO_ENABLED ?= 0

.PHONY: all build run test vet fmt-check unit bench deps clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/outreach

# Try it: import the twinning table and the example contacts into ./var/,
# then print the status table and the letter one office would get.
run: build
	@mkdir -p $(VAR)
	$(BIN) import cities config/sister-cities.csv
	$(BIN) import contacts config/contacts.example.csv
	@echo
	$(BIN) status
	@echo
	@echo "--- the letter Montreal's office would get (nothing is sent) ---"
	$(BIN) preview --city Montreal

# Everything CI runs: vet, the gofmt check, and every test with the race
# detector (which needs cgo, whatever the build uses).
test: vet fmt-check unit

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './var/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

unit:
	CGO_ENABLED=1 $(GO) test -race -count=1 ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin
