# vrrpguard — see README.md. The two commands a newcomer needs:
#   sudo make run    watch every local interface with the embedded default config
#   sudo make test   install what the tests need (Debian packages) and run every test

# sudo's secure_path usually lacks Go's bin directory: find it, and let the
# tests (which build the binary with `go build`) find it too.
GO      ?= $(shell command -v go 2>/dev/null || ls /usr/local/go/bin/go 2>/dev/null || echo go)
export PATH := $(dir $(GO)):$(PATH)
BIN     := bin/vrrpguard
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# Debian packages the tests drive for real.
TEST_DEBS := keepalived tcpdump tshark nftables arping iproute2 psmisc procps util-linux ca-certificates prometheus-alertmanager prometheus chromium

.PHONY: all build run test deps check unit bench fuzz demo clean

all: build

# A static binary (no cgo: the pure-Go resolver and user lookup) maps no libc,
# ~1.2 MiB less resident memory for `vrrpguard run` (BENCHMARKS.md).
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/vrrpguard

run: build
	./$(BIN) watch

# deps installs the Debian packages the integration tests use (idempotent;
# apt-get update only when something is missing).
deps:
	@missing=""; for p in $(TEST_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@command -v mailpit >/dev/null || { echo "installing: mailpit"; GOBIN=/usr/local/bin $(GO) install github.com/axllent/mailpit@v1.27.11; }

check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Lab tests keep what a person should look at (the status page screenshots)
# under artifacts/.
VRRPGUARD_ARTIFACTS ?= $(CURDIR)/artifacts
export VRRPGUARD_ARTIFACTS

# test: everything, nothing skipped (VRRPGUARD_REQUIRE_LAB=1 turns a missing
# requirement into a failure).
test: deps check
	VRRPGUARD_REQUIRE_LAB=1 $(GO) test -race -count=1 -timeout 45m ./...

# unit: what runs without root or packages (lab tests skip).
unit:
	$(GO) test -count=1 ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./vrrp ./sniffer ./rules

# fuzz runs every fuzz target for FUZZTIME each (their seed corpora run in
# the normal tests). SECURITY.md has the figures of a 10-minute run
# (make fuzz FUZZTIME=10m).
FUZZTIME ?= 60s
FUZZPARALLEL ?= 1
FUZZMINIMIZE ?= 5s
FUZZ_TARGETS = \
	./vrrp:FuzzUnmarshal \
	./sniffer:FuzzDecode \
	./sniffer:FuzzReadFiles \
	./demote:FuzzStep \
	./config:FuzzParseYAML \
	./config:FuzzExpectations \
	./config/keepalived:FuzzParseKeepalived \
	./alert:FuzzOutboxRecord \
	./internal/app:FuzzHTTP \
	./track:FuzzDecodeProcEvents \
	./internal/nlwatch:FuzzDispatch

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "== $$fn ($$pkg)"; \
		$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE) -parallel $(FUZZPARALLEL) $$pkg; \
	done

# demo: a throwaway namespace lab with a real keepalived pair, broken in
# several ways while vrrpguard watches (needs root).
demo: build deps
	./scripts/demo.sh

clean:
	rm -rf bin artifacts
