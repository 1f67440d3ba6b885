# Waymark. `make help` lists the targets.
SHELL := /bin/bash
GO    ?= go
PKGS  := ./...
# Tests need PostgreSQL; NATS is embedded in the test process.
export TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/waymark_test?sslmode=disable

.PHONY: help run build test test/fast lint fmt bench abuse fuzz clean fleet fleet-test

help: ## list the targets
	@grep -hE '^[a-zA-Z/_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

run: ## run everything on this machine: API :8080, DNS :5300, embedded NATS (waymark dev)
	$(GO) run ./cmd/waymark dev

build: ## build bin/waymark
	$(GO) build -o bin/waymark ./cmd/waymark

test: ## vet and run every test, with the race detector, against real PostgreSQL and embedded NATS
	$(GO) vet $(PKGS)
	$(GO) test -count=1 -race -timeout 20m $(PKGS)

test/fast: ## the tests without the race detector
	$(GO) test -count=1 -timeout 15m $(PKGS)

lint: ## gofmt, go vet and staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)

fmt: ## gofmt every file
	gofmt -w $$(git ls-files '*.go')

fuzz: ## run every fuzz target briefly (FUZZTIME=30s to go longer)
	./scripts/fuzz.sh $${FUZZTIME:-10s}

bench: ## benchmarks: control plane, nameserver vs Knot DNS, propagation, abuse (see docs/benchmarks.md)
	./bench/run.sh

abuse: ## the nameserver under TCP floods, a spoofed-source UDP flood and RRL, beside Knot DNS (bench/abuse.sh)
	./bench/abuse.sh

fleet: ## start the production roles as processes (3 NATS nodes, 2 APIs, 3 nameservers, 3 checkers) and print their addresses
	$(GO) run ./internal/fleet/fleetup

fleet-test: ## only the fleet's fault tests (make test runs them too): kill -9 a NATS node, the relay's API, a nameserver; regions as leaf nodes behind delayed links, one cut off for 30 s, one losing 2 % of its packets (internal/fleet)
	$(GO) test -count=1 -timeout 15m -v -run 'TestFleet' ./internal/fleet/

clean: ## remove build output and the dev state in .waymark/
	rm -rf bin .waymark
