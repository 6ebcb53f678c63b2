# govs — see README.md.
#
#   make run     build govsd and run it on config.toml (creates the lab; Ctrl-C stops it)
#   make test    everything: format, vet, unit and race tests, short fuzz runs, end-to-end tests
#   make bench   Go benchmarks of the hot path, then (as root) the netns
#                comparison with Open vSwitch and the null forwarder
#                (bench-go, bench-netns)
#
# `run` and `test` install the Debian packages they need when they are
# missing (as root, with apt-get): see DEPS_RUN and DEPS_TEST.

GO        ?= go
BIN       := bin
CONFIG    ?= config.toml
FUZZTIME  ?= 20s
DEPS_RUN  := iproute2 ethtool
DEPS_TEST := $(DEPS_RUN) openvswitch-common python3-os-ken iputils-ping

.PHONY: all build run test unit fuzz e2e lint bench bench-go bench-netns deps-run deps-test clean

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
	$(GO) test -run '^$$' -fuzz '^FuzzParseFlow$$' -fuzztime $(FUZZTIME) ./ofproto/ofctl/

e2e:
	$(GO) test -count=1 -v ./e2e/

# One after the other, also under make -j: the netns run wants a quiet machine.
bench:
	$(MAKE) bench-go
	$(MAKE) bench-netns

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./datapath/ ./vport/ ./ofproto/...

# The netns comparison (needs root): govsd as a peer of ../shared/perf's
# peers.sh beside Open vSwitch (userspace datapath, and with userspace TSO)
# and the AF_PACKET null forwarder, in one run; results in a new temporary
# directory, then the table and govs' ratios to its peers from that run.
# PERF_ARGS and PERF_PEERS override the run (peers.sh -h lists the options).
PERF       ?= ../shared/perf
PERF_PEERS ?= govs-flows ovs-flows ovs-flows-tso nullfwd
PERF_ARGS  ?= -r 3 -d 4 -T -f 50000
DEPS_BENCH := $(DEPS_RUN) openvswitch-switch netsniff-ng iperf3 iputils-ping python3

bench-netns:
	@[ "$$(id -u)" = 0 ] || { echo "bench-netns: needs root (network namespaces); make bench-go runs the Go benchmarks alone" >&2; exit 1; }
	@./.ci/ensure-packages $(DEPS_BENCH)
	$(GO) build -o $(BIN)/govsd ./cmd/govsd
	cd $(PERF)/nullfwd && $(GO) build -o $(CURDIR)/$(BIN)/nullfwd .
	@out=$$(mktemp -d "$${TMPDIR:-/tmp}/govs-bench.XXXXXX") && \
	  echo "bench-netns: results in $$out (load: $$(cut -d' ' -f1-3 /proc/loadavg))" && \
	  GOVSD_BIN=$(CURDIR)/$(BIN)/govsd NULLFWD_BIN=$(CURDIR)/$(BIN)/nullfwd \
	    $(PERF)/peers.sh -o "$$out" -p "$(PERF_PEERS)" $(PERF_ARGS) && \
	  echo && python3 bench/ratios.py "$$out/raw.tsv" && echo "results: $$out"

# Install missing Debian packages (only what is missing; needs root).
deps-run:
	@./.ci/ensure-packages $(DEPS_RUN)

deps-test:
	@./.ci/ensure-packages $(DEPS_TEST)

clean:
	rm -rf $(BIN)
