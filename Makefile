# nsfw: make demo builds the wasm and serves the demo; make test runs every test.
SHELL := /bin/bash
GO    ?= go
NPM   ?= npm
CACHE := build/cache
NSFWJS_TGZ := $(CACHE)/nsfwjs-4.4.0.tgz
PKGS   = $$($(GO) list ./... | grep -v /node_modules/)
# every package but the browser tests, which test-e2e runs
GO_PKGS = $$($(GO) list ./... | grep -v -e /node_modules/ -e '/internal/e2e$$')
TESTSUM := $(CACHE)/bin/testsum
TESTDIR := $(CACHE)/test
TESTRUN  = $(TESTSUM) -dir $(TESTDIR) run
# GOEXPERIMENT=simd on amd64 compiles in the avx2 kernels (internal/kernels/
# avx2_amd64simd.go, chosen at run time on CPUs with AVX2 and FMA)
SIMD_ENV = $(if $(filter amd64,$(shell $(GO) env GOARCH)),GOEXPERIMENT=simd)

.PHONY: all test test-deps test-in-turn test-go test-e2e test-simd test-wasm vet cli wasm web demo extension example bench-extension bench-upload model reference ascent bench bench-native bench-web fuzz clean node-deps

all: cli web extension

WEB   := dist/web
MODEL ?= default
ADDR  ?= 127.0.0.1:8080

## wasm, web: the servable folder: the engine as one .wasm (weights embedded),
## Go's wasm_exec.js, the SIMD kernels, the JS shim (an npm-style package) and
## the demo, precompressed (MODEL=mid embeds MobileNetV2Mid)
wasm web:
	$(GO) run ./build/webbuild -out $(WEB) -model $(MODEL)
	@ls -l $(WEB)/*.wasm

## extension: the browser extension, unpacked in dist/extension (chrome://extensions,
## Developer mode, Load unpacked) and zipped in dist/nsfw-extension.zip (MODEL=mid embeds MobileNetV2Mid)
extension:
	$(GO) run ./build/extbuild -out dist/extension -zip dist/nsfw-extension.zip -model $(MODEL)
	@ls -l dist/nsfw-extension.zip

## example: serve the upload example (checked in the browser, then on the server) on $(ADDR)
example: web
	$(SIMD_ENV) $(GO) run ./cmd/nsfw serve-example --web $(WEB) --addr $(ADDR)

## demo: build the web folder (as make web) and serve the demo on $(ADDR),
## which is taken first, so that a port in use is reported before the build
demo:
	@mkdir -p $(CACHE)/bin
	$(GO) build -o $(CACHE)/bin/nsfw ./cmd/nsfw
	$(CACHE)/bin/nsfw serve --build --model $(MODEL) --dir $(WEB) --addr $(ADDR)

## test: every test: vet, then Go (engine, parity with nsfwjs, CLI, converter),
## the avx2 kernels and the wasm kernels in Node one after the other, beside
## the browser tests in headless Chromium (installed here when missing and
## possible), which mostly wait on the browser; each package's result as it
## arrives, and a summary at the end (build/testsum). TEST_JOBS=1 runs the
## browser tests first, alone.
TEST_JOBS ?= 2
test: vet test-deps $(TESTSUM)
	@rm -rf $(TESTDIR)
	@status=0; $(MAKE) --no-print-directory -k -j$(TEST_JOBS) test-e2e test-in-turn || status=$$?; \
	$(TESTSUM) -dir $(TESTDIR) summary || status=1; exit $$status

test-in-turn:
	@$(MAKE) --no-print-directory -k -j1 test-go test-simd test-wasm

test-deps:
	@build/ensure-node.sh
	@build/ensure-wabt.sh
	@build/ensure-chromium.sh

## vet: go vet natively, with the avx2 kernels and for wasm, and gofmt. vet
## compiles what it checks and says nothing meanwhile (minutes on a first
## run), so testsum watch notes every 30 s that it is still at work.
vet: $(TESTSUM)
	$(TESTSUM) watch -label vet -- $(GO) vet $(PKGS)
	$(SIMD_ENV) $(TESTSUM) watch -label vet-avx2 -- $(GO) vet ./internal/kernels/
	GOOS=js GOARCH=wasm $(TESTSUM) watch -label vet-wasm -- $(GO) vet -tags nsfw_simd ./internal/kernels/ ./wasm/
	@unformatted="$$(gofmt -l $$(find . -name '*.go' -not -path '*/node_modules/*'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi

## test-go: every package natively, but the browser tests
test-go: $(TESTSUM)
	$(TESTRUN) -label go -- $(GO) test -count=1 -json $(GO_PKGS)

## test-e2e: the products in headless Chromium (internal/e2e), each test shown as
## it ends; a first run on a busy machine can pass go test's default 10 min
test-e2e: $(TESTSUM)
	$(TESTRUN) -label e2e -tests internal/e2e -- $(GO) test -count=1 -json -timeout=30m ./internal/e2e/

## test-simd: the kernels, engine and parity tests again with the avx2 kernels
## (GOEXPERIMENT=simd; on other architectures the same tests as test-go)
test-simd: $(TESTSUM)
	$(SIMD_ENV) $(TESTRUN) -label avx2 -- $(GO) test -count=1 -json ./internal/kernels/ ./internal/engine/ .

## test-wasm: the engine compiled to wasm and run in Node: pure-Go kernels
## through Go's own runner, then the SIMD128 kernel module through ours
## (build/wasmtest/run.mjs provides the nsfw_kernels imports)
test-wasm: $(TESTSUM)
	GOOS=js GOARCH=wasm $(TESTRUN) -label wasm -- $(GO) test -count=1 -json -exec="$$($(GO) env GOROOT)/lib/wasm/go_js_wasm_exec" ./internal/kernels/ ./internal/engine/ ./internal/preprocess/ ./internal/format/
	GOOS=js GOARCH=wasm $(TESTRUN) -label wasm-simd -- $(GO) test -count=1 -json -short -tags=nsfw_simd -exec="node $(CURDIR)/build/wasmtest/run.mjs" ./internal/kernels/ ./internal/engine/ .

## testsum: the test runner's reporter (progress per package, the summary)
$(TESTSUM): build/testsum/main.go
	@mkdir -p $(dir $@)
	$(GO) build -o $@ ./build/testsum

## cli: build bin/nsfw (with the avx2 kernels on amd64). GOEXPERIMENT=simd
## changes every package's build, so the first such build compiles the
## standard library again; without -trimpath it shares that with make test,
## bench and example. Each package compiled is counted on one line.
cli:
	@echo "building bin/nsfw$(if $(SIMD_ENV), with the avx2 kernels (GOEXPERIMENT=simd: a first build compiles Go's standard library for it))"
	@set -o pipefail; total=$$($(SIMD_ENV) $(GO) list -deps ./cmd/nsfw | wc -l); \
	$(SIMD_ENV) $(GO) build -v -o bin/nsfw ./cmd/nsfw 2>&1 | awk -v total=$$total -v tty=$$([ -t 1 ] && echo 1) ' \
		/^[^ :]+$$/ { n++; if (tty) { printf "\r\033[Kcompiled %d of at most %d packages: %s", n, total, $$0; fflush() } \
			else if (n % 40 == 0) print "compiled " n " of at most " total " packages"; next } \
		{ if (tty && n) printf "\n"; print } \
		END { if (tty && n) printf "\r\033[K"; if (n) print "compiled " n (n == 1 ? " package" : " packages") }'
	@ls -l bin/nsfw

## node-deps: the benchmark/reference-only Node packages (nsfwjs, TF.js, playwright-core)
node-deps: build/node_modules/.package-lock.json
build/node_modules/.package-lock.json: build/package.json build/package-lock.json
	cd build && $(NPM) ci --no-audit --no-fund --loglevel=error

## model: regenerate the committed .nsfw files from the nsfwjs npm tarball
$(NSFWJS_TGZ):
	mkdir -p $(CACHE)
	$(NPM) pack nsfwjs@4.4.0 --pack-destination $(CACHE) --loglevel=error
model: $(NSFWJS_TGZ)
	$(GO) run ./cmd/nsfw convert --model default --tarball $(NSFWJS_TGZ) -o model/mobilenetv2/mobilenet_v2.nsfw
	$(GO) run ./cmd/nsfw convert --model mid --tarball $(NSFWJS_TGZ) -o model/mobilenetv2mid/mobilenet_v2_mid.nsfw

## ascent: regenerate the class-maximising fixtures (about 2 minutes)
ascent: node-deps
	node build/reference/ascent.mjs --seed testdata/fixtures/photo-coffee.png --out testdata/fixtures

## reference: regenerate testdata/reference.json with nsfwjs on TF.js (about 5 minutes)
reference: node-deps
	rm -rf $(CACHE)/dump
	$(GO) run ./build/dump -out $(CACHE)/dump $$(ls testdata/fixtures/* | grep -v SOURCES.md)
	node build/reference/reference.mjs --dump $(CACHE)/dump --out testdata/reference.json

## bench: native benchmarks (models end to end, kernels; with the avx2 kernels on amd64)
bench:
	$(SIMD_ENV) $(GO) test -run='^$$' -bench=. -benchtime=20x . ./internal/kernels/ ./internal/preprocess/
	GOOS=js GOARCH=wasm $(GO) test -run='^$$' -bench=. -benchtime=20x -tags nsfw_simd -exec="node $(CURDIR)/build/wasmtest/run.mjs" . ./internal/kernels/

## bench-native: native engine (avx2 kernels on amd64) vs nsfwjs in Node side by side, CLI throughput; appends to BENCHMARKS.md
bench-native: node-deps
	$(SIMD_ENV) $(GO) run ./build/bench/native -runs 30 -append BENCHMARKS.md

## bench-web: this project in headless Chromium (SIMD and pure-Go kernels) vs nsfwjs on TF.js
## (wasm, threaded wasm, cpu) side by side: latency, cold start, bytes, memory, throughput; appends to BENCHMARKS.md
bench-web: node-deps test-deps
	$(GO) run ./build/bench/web -append BENCHMARKS.md

## bench-upload: the upload guard under load on loopback, beside the bare server and the engine, then under attack
## (256 slow clients; 2 CPU-amplifying clients) beside the same load without; appends to BENCHMARKS.md
bench-upload:
	$(SIMD_ENV) $(GO) run ./build/bench/upload -append BENCHMARKS.md

## bench-extension: the extension in headless Chromium on a 100-image page: time until all are classified, memory
bench-extension:
	$(GO) test -run='^$$' -bench=Extension -benchtime=5x ./internal/e2e/

## fuzz: run each fuzzer for FUZZTIME (default 60s): model loader, decoders, every-frame reader, ICC
## profiles, upload bodies and images, file names, images in form values
FUZZTIME ?= 60s
fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzLoad -fuzztime=$(FUZZTIME) -fuzzminimizetime=5s ./internal/format/
	$(GO) test -run='^$$' -fuzz=FuzzDecode -fuzztime=$(FUZZTIME) -fuzzminimizetime=5s ./internal/imageio/
	$(GO) test -run='^$$' -fuzz=FuzzFrames -fuzztime=$(FUZZTIME) -fuzzminimizetime=5s ./internal/imageio/
	$(GO) test -run='^$$' -fuzz=FuzzICC -fuzztime=$(FUZZTIME) -fuzzminimizetime=5s ./internal/imageio/
	$(GO) test -run='^$$' -fuzz=FuzzMultipart -fuzztime=$(FUZZTIME) -fuzzminimizetime=5s ./upload/
	$(GO) test -run='^$$' -fuzz=FuzzImage -fuzztime=$(FUZZTIME) -fuzzminimizetime=5s ./upload/
	$(GO) test -run='^$$' -fuzz=FuzzFilename -fuzztime=$(FUZZTIME) -fuzzminimizetime=5s ./upload/
	$(GO) test -run='^$$' -fuzz=FuzzTextImages -fuzztime=$(FUZZTIME) -fuzzminimizetime=5s ./upload/

clean:
	rm -rf bin dist $(CACHE)
