# M1 build, test and benchmark targets. Every target works from a fresh
# checkout; binaries go to bin/.
GO       ?= go
BIN      := bin
CMDS     := $(notdir $(wildcard cmd/*))
TOOLS    := $(notdir $(wildcard tools/*))
# Packages whose code runs goroutines across shared state: tested with -race.
RACE_PKGS ?= ./ipc/... ./queue/...

.PHONY: all build test test-short lint vet fmt-check demo bench bench-queue clean

all: build

build:
	@mkdir -p $(BIN)
	@for d in $(CMDS); do $(GO) build -o $(BIN)/$$d ./cmd/$$d || exit 1; done
	@for d in $(TOOLS); do if ls tools/$$d/*.go >/dev/null 2>&1 && grep -q '^package main' tools/$$d/*.go; then $(GO) build -o $(BIN)/$$d ./tools/$$d || exit 1; fi; done

lint: vet fmt-check

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null; git ls-files -o --exclude-standard '*.go' 2>/dev/null)); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# The test command of the README and of .ci/run.
test: lint
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -race $(RACE_PKGS)

bench-queue: build
	$(BIN)/qbench

clean:
	rm -rf $(BIN)
