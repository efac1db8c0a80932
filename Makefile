# Seqbox build and test entry points. `make run` and `make test` install the system
# packages they need (only when missing), then build.
SWIFT ?= swift
APT_PACKAGES := liblz4-dev libxxhash-dev libsqlite3-dev libssl-dev pkg-config redis-server
DATA_DIR ?= ./data

.PHONY: deps build release run test tsan asan bench bench-e2e clean

deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update && $$SUDO apt-get install -y $$missing; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

run: release
	$(SWIFT) run -c release seqboxd --data $(DATA_DIR)

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

tsan: deps
	$(SWIFT) test --sanitize=thread --filter "Concurrency|AccessLayer|ClusterStorageClient|ClusterTopology|PushDelivery"

asan: deps
	ASAN_OPTIONS=detect_leaks=0 $(SWIFT) test --sanitize=address

bench: release
	$(SWIFT) run -c release seqbox-bench store

bench-e2e: release
	$(SWIFT) run -c release seqbox-bench e2e --sweep

clean:
	rm -rf .build
