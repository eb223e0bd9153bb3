# The two commands of the README: `make run` and `make test`. Both install any missing
# Debian package first (deploy/install-deps.sh), then build with CMake into build/.
# `make deb` builds the Debian package, build/closeloop_<version>_amd64.deb (deploy/README.md).
BUILD  ?= build
CONFIG ?= config/closeloop.toml
JOBS   ?= $(shell nproc)

.PHONY: all deps build run test bench deb clean

all: build

deps:
	@deploy/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/bin/closeloopd --config $(CONFIG)

test: build
	cd $(BUILD) && ctest --output-on-failure -j 2 --timeout 600

deb: build
	cd $(BUILD) && cpack -G DEB

bench: build
	bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD)
