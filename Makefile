# M1 build, test and benchmark targets. Every target works from a fresh
# checkout; binaries go to bin/. `make help` lists them.
GO        ?= go
BIN       := bin
CMDS      := $(notdir $(wildcard cmd/*))
TOOLS     := $(notdir $(wildcard tools/*))
# Packages whose code runs goroutines across shared state: tested again
# with the race detector.
RACE_PKGS ?= ./ipc/... ./queue/... ./gw/proctab/... ./gw/queues/... ./gw/dupindex/... \
             ./gw/logging/... ./gw/daemon/... ./gw/client/... ./gw/msg/... ./gw/store/... \
             ./gw/dist/... ./gw/lsnr/... ./gw/sch/... ./gw/tkm/... ./gw/sender/... \
             ./gw/carrier/... ./gw/dbx/... ./tools/carriersim/...

.PHONY: all help build test test-race lint vet fmt-check demo e2e chaos bench bench-queue bench-fileq bench-dist bench-store bench-dupindex \
        bench-lsnr bench-sch bench-sender bench-dbx bench-e2e \
        chaos-queue fuzz-short clean

all: build

help:
	@echo "make demo         the whole suite on SQLite with simulated carriers"
	@echo "make test         vet, gofmt check, tests, race tests (what CI runs)"
	@echo "make build        every binary into bin/"
	@echo "make bench-queue  shared-memory queue vs msgq and a socket pair, two processes"
	@echo "make bench-fileq  file queue durability options vs raw append+fdatasync"
	@echo "make bench-dist   the distributor alone, one record per op and batched"
	@echo "make bench-store  database events and T41 claims, SQLite and PostgreSQL"
	@echo "make bench-dupindex  the duplicate index vs a map with a mutex"
	@echo "make bench-lsnr   the eai_lsnr process vs an echo server, over TCP"
	@echo "make bench-sch    T41 drain into the lanes vs ClaimDue alone, SQLite and PostgreSQL"
	@echo "make bench-sender one sender vs the simulator's ceiling, per dialect and window"
	@echo "make bench-dbx    dbx events/s vs store.ApplyEvents alone, SQLite and PostgreSQL"
	@echo "make bench-e2e    the whole suite: TCP intake to final T41_LOG row, 60 s (E2E_DB=sqlite|postgres)"
	@echo "make bench        every benchmark above; writes docs/BENCHMARKS.md"
	@echo "make e2e          the whole suite end to end on SQLite and PostgreSQL (E2E_MESSAGES)"
	@echo "make chaos        the same under SIGKILLs, a database outage, link drops, ipcrm (CHAOS_MESSAGES)"
	@echo "make chaos-queue  the queue crash tests with many more SIGKILL rounds"
	@echo "make fuzz-short   every fuzzer for a short while"

build:
	@mkdir -p $(BIN)
	@for d in $(CMDS); do \
	  if ls cmd/$$d/*.go >/dev/null 2>&1; then $(GO) build -o $(BIN)/$$d ./cmd/$$d || exit 1; fi; \
	done
	@for d in $(TOOLS); do \
	  if grep -qs '^package main' tools/$$d/*.go; then $(GO) build -o $(BIN)/$$d ./tools/$$d || exit 1; fi; \
	done

lint: vet fmt-check

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# The test command of the README and of .ci/run.
test: lint
	$(GO) test -count=1 ./...
	$(MAKE) test-race

test-race:
	$(GO) test -count=1 -race $(RACE_PKGS)

# The README's first command: the whole suite on SQLite with simulated
# carriers, in a temporary home, under two minutes.
demo: build
	scripts/demo

# End to end: the whole suite as real processes on SQLite and PostgreSQL
# (E2E_MESSAGES over TCP; make test runs a small one), and the chaos version
# (CHAOS_MESSAGES; the full run is 100,000).
E2E_MESSAGES   ?= 20000
CHAOS_MESSAGES ?= 100000
e2e:
	@mkdir -p log; E2E_MESSAGES=$(E2E_MESSAGES) $(GO) test -count=1 -timeout 60m -run 'TestEndToEnd' -v ./e2e/ >log/e2e.log 2>&1; rc=$$?; \
	grep -E '^(--- |ok|FAIL)|e2e_test.go' log/e2e.log; \
	grep '^e2e: ' log/e2e.log | awk '{for (i = 2; i <= NF; i++) {split($$i, kv, "="); v[kv[1]] += kv[2]; if (kv[1] == "rate" && (r == "" || kv[2] < r)) r = kv[2]}} \
	  END {printf "e2e: messages=%d lost=%d duplicates=%d rate=%d\n", v["messages"], v["lost"], v["duplicates"], r}'; exit $$rc

chaos:
	@mkdir -p log; CHAOS_MESSAGES=$(CHAOS_MESSAGES) M1_TEST_KEEP_HOME=$(KEEP_HOME) $(GO) test -count=1 -timeout 120m -run 'TestChaos' -v ./e2e/ >log/chaos.log 2>&1; rc=$$?; \
	grep -E '^(--- |ok|FAIL)|e2e_test.go' log/chaos.log; grep '^chaos: ' log/chaos.log | tail -1; exit $$rc

bench-queue: build
	$(BIN)/qbench

bench-dist:
	@$(GO) test -run '^$$' -bench 'BenchmarkDist/(single|batched)$$|BenchmarkBaselineCopy' -benchtime 100000x ./gw/dist/ | awk '/records\/s/ {for (i = 1; i < NF; i++) if ($$(i+1) == "records/s") v = $$i; print; if ($$1 ~ /single/) s = v; else if ($$1 ~ /batched-/) b = v} END {printf "dist: single=%s batched=%s\n", s, b}'

bench-store:
	$(GO) test -run '^$$' -bench 'ApplyEvents|Baseline' -benchtime 30x ./gw/store/
	$(GO) test -run '^$$' -bench ClaimDrain -benchtime 3x ./gw/store/

bench-dupindex:
	$(GO) test -count=1 -run '^$$' -bench CheckAndInsert -benchtime=2s ./gw/dupindex/

bench-lsnr: build
	sh tools/loadgen/bench_procs.sh $(BIN) -n 300000 --window 8 -q --baseline --line

bench-sch:
	$(GO) test -count=1 -run '^$$' -bench T41Drain -benchtime 1x ./gw/sch/ | tee /dev/stderr | grep '^sch: '

bench-sender: build
	$(BIN)/carriersim --bench

bench-dbx: build
	$(BIN)/dbxbench --etc etc

# The whole suite, 60 s of load over TCP; E2E_DB=postgres for PostgreSQL,
# E2E_FLAGS for more (bin/e2ebench --help).
E2E_DB ?= sqlite
bench-e2e: build
	$(BIN)/e2ebench --db $(E2E_DB) $(E2E_FLAGS)

# Every benchmark above and the end-to-end runs; writes docs/BENCHMARKS.md.
bench: build
	scripts/bench

# Run on the disk you want to measure (not tmpfs): the file queue in ./ .
bench-fileq: build
	$(BIN)/fqbench --dir .

chaos-queue:
	SHMQ_CRASH_ROUNDS=1000 $(GO) test -count=1 -run 'TestCrash' -v ./queue/shmq/
	DUPINDEX_CRASH_ROUNDS=300 $(GO) test -count=1 -run 'TestCrash' ./gw/dupindex/

# Every fuzz target of the tree, FUZZTIME each (go test runs one at a time).
FUZZTIME ?= 15s
fuzz-short:
	@grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u | while read -r pkg; do \
	  for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$pkg/*_test.go | sed 's/^func //'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf $(BIN)
