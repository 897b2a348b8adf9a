# egan-ort: build, test and demo targets.
#
# A fresh machine needs two commands: `make demo` and `make test`. Both first
# run `setup`, which installs ONNX Runtime's library into third_party/ort/
# (once; later runs find it there). Building needs no ONNX Runtime.

GO           ?= go
BIN          ?= bin/egan-ort
VERSION      ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
TEST_TIMEOUT ?= 20m
BENCH_TIME   ?= 1s
PKGS         ?= ./...

LDFLAGS := -X main.version=$(VERSION)

.PHONY: all setup build test demo bench clean distclean

all: build

# setup installs ONNX Runtime 1.30.0 (CPU) from the npm package
# onnxruntime-node, checked against a pinned sha256.
setup:
	scripts/install-ort.sh

# node-ort installs onnxruntime-node into third_party/node/ for the
# cross-runtime tests in interop/ (scripts/node/run-model.js), at the
# versions of scripts/node/package-lock.json.
.PHONY: node-ort
node-ort:
	scripts/install-node-ort.sh

# The tests also run the exported model in Node.js.
test: node-ort

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/egan-ort

test: setup
	$(GO) vet $(PKGS)
	$(GO) test -timeout $(TEST_TIMEOUT) $(PKGS)

# demo runs the main job on a fresh machine: a short training run on the
# synthetic dataset (no download), written to runs/OBJECTIVE-TIME/, with its
# exported model.onnx. DEMO_FLAGS adds train flags (see egan-ort train --help).
DEMO_EPOCHS ?= 5
DEMO_FLAGS  ?=
demo: setup build
	$(BIN) train --epochs $(DEMO_EPOCHS) $(DEMO_FLAGS)

bench: setup
	$(GO) test -run '^$$' -bench . -benchtime $(BENCH_TIME) -timeout $(TEST_TIMEOUT) $(PKGS)

clean:
	rm -rf bin

# distclean also removes the installed ONNX Runtime library.
distclean: clean
	rm -rf third_party/ort
	rm -rf third_party/node
