# Two commands do everything on a fresh Debian 12 machine, as root:
#   make demo   builds both binaries and runs a demo container
#   make test   installs what the tests need and runs the whole suite
GO        ?= go
BIN       := bin
GOFLAGS_STATIC = -trimpath -ldflags='-s -w -buildid= $(VERSION_X)'
# miniinit's own entry point reads the signal state it was started with
# before the Go runtime changes it (init/pid1/inherit.go).
MINIINIT_ENTRY := -E=miniinit_rt0
# --version names the release or commit (internal/version); without git,
# the binaries say they carry no version.
VERSION   := $(shell git describe --always --dirty 2>/dev/null)
VERSION_X := -X github.com/minispawn/minispawn/internal/version.Set=$(VERSION)
export CGO_ENABLED := 0

.PHONY: all build demo test deps check unit fuzz bench clean

all: build

build:
	$(GO) build -trimpath -ldflags='-s -w -buildid= $(VERSION_X) $(MINIINIT_ENTRY)' -o $(BIN)/miniinit ./cmd/miniinit
	$(GO) build $(GOFLAGS_STATIC) -o $(BIN)/minispawn ./cmd/minispawn

demo: build
	$(BIN)/minispawn -c contrib/examples/demo.toml

deps:
	contrib/scripts/deps.sh

# check: formatting and vet, cheap and first.
check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi
	$(GO) vet ./...

# The race detector needs cgo; the binaries under test are still built
# static by the tests themselves.
unit:
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 20m ./...

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 30s ./config

test: deps check build unit fuzz test-vm test-systemd test-systemd-vm

bench: deps build
	contrib/bench/run.sh

clean:
	rm -rf $(BIN)

# Test tiers for what this host lacks (contrib/testbed/README.md):
#   test-vm       cgroup v2: ./cgroup and ./cmd/minispawn root tests in a
#                 qemu VM running systemd (one boot, CI=1)
#   test-systemd  systemd as PID 1 under systemd-nspawn: minispawn as a
#                 service (contrib/testbed/systemd-service.sh; ~12 s warm)
#   test-systemd-vm  the same checks in the cgroup v2 VM, where the
#                 delegated subtree has every controller (~2 min)
.PHONY: test-vm test-systemd test-systemd-vm
test-vm: build
	contrib/testbed/test-vm.sh

test-systemd: build
	contrib/testbed/test-systemd.sh

test-systemd-vm: build
	contrib/testbed/test-systemd.sh --vm
