# govs — see README.md.
#
#   make run     build govsd and run it on config.toml (creates the lab; Ctrl-C stops it)
#   make test    everything: format, vet, unit and race tests, short fuzz runs, end-to-end tests
#   make bench   Go benchmarks of the hot path
#
# `run` and `test` install the Debian packages they need when they are
# missing (as root, with apt-get): see DEPS_RUN and DEPS_TEST.

GO        ?= go
BIN       := bin
CONFIG    ?= config.toml
FUZZTIME  ?= 20s
DEPS_RUN  := iproute2 ethtool
DEPS_TEST := $(DEPS_RUN) openvswitch-common python3-os-ken iputils-ping

.PHONY: all build run test unit fuzz e2e lint bench deps-run deps-test clean

all: build

build:
	$(GO) build -o $(BIN)/govsd ./cmd/govsd
	$(GO) build -o $(BIN)/govs ./cmd/govs

run: build deps-run
	./$(BIN)/govsd -config $(CONFIG)

test: deps-test lint unit fuzz

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt: not formatted:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Unit, race and (as root) end-to-end tests; e2e runs in its own package.
unit:
	$(GO) test -race -count=1 -timeout 15m ./...

# Short runs of every fuzz target (longer: make fuzz FUZZTIME=10m).
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./ofproto/ofp/
	$(GO) test -run '^$$' -fuzz '^FuzzExtract$$' -fuzztime $(FUZZTIME) ./datapath/

e2e:
	$(GO) test -count=1 -v ./e2e/

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./datapath/ ./vport/ ./ofproto/...

# Install missing Debian packages (only what is missing; needs root).
deps-run:
	@./.ci/ensure-packages $(DEPS_RUN)

deps-test:
	@./.ci/ensure-packages $(DEPS_TEST)

clean:
	rm -rf $(BIN)
