# nsfw: make demo builds the wasm and serves the demo; make test runs every test.
SHELL := /bin/bash
GO    ?= go
NPM   ?= npm
CACHE := build/cache
NSFWJS_TGZ := $(CACHE)/nsfwjs-4.4.0.tgz
PKGS   = $$($(GO) list ./... | grep -v /node_modules/)
# GOEXPERIMENT=simd on amd64 compiles in the avx2 kernels (internal/kernels/
# avx2_amd64simd.go, chosen at run time on CPUs with AVX2 and FMA)
SIMD_ENV = $(if $(filter amd64,$(shell $(GO) env GOARCH)),GOEXPERIMENT=simd)

.PHONY: all test test-deps test-go test-simd test-wasm vet cli wasm web demo extension example bench-extension bench-upload model reference ascent bench bench-native bench-web fuzz clean node-deps

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

## demo: build everything and serve the demo on $(ADDR)
demo: web
	$(GO) run ./cmd/nsfw serve --dir $(WEB) --addr $(ADDR)

## test: every test: Go (engine, parity with nsfwjs, CLI, converter), the
## avx2 kernels, wasm kernels in Node, and the browser tests in headless
## Chromium (installed here when missing and possible)
test: vet test-deps test-go test-simd test-wasm

test-deps:
	@build/ensure-chromium.sh

vet:
	$(GO) vet $(PKGS)
	$(SIMD_ENV) $(GO) vet ./internal/kernels/
	GOOS=js GOARCH=wasm $(GO) vet -tags nsfw_simd ./internal/kernels/ ./wasm/
	@unformatted="$$(gofmt -l $$(find . -name '*.go' -not -path '*/node_modules/*'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi

test-go:
	$(GO) test -count=1 $(PKGS)

## test-simd: the kernels, engine and parity tests again with the avx2 kernels
## (GOEXPERIMENT=simd; on other architectures the same tests as test-go)
test-simd:
	$(SIMD_ENV) $(GO) test -count=1 ./internal/kernels/ ./internal/engine/ .

## test-wasm: the engine compiled to wasm and run in Node: pure-Go kernels
## through Go's own runner, then the SIMD128 kernel module through ours
## (build/wasmtest/run.mjs provides the nsfw_kernels imports)
test-wasm:
	GOOS=js GOARCH=wasm $(GO) test -count=1 -exec="$$($(GO) env GOROOT)/lib/wasm/go_js_wasm_exec" ./internal/kernels/ ./internal/engine/ ./internal/preprocess/ ./internal/format/
	GOOS=js GOARCH=wasm $(GO) test -count=1 -short -tags nsfw_simd -exec="node $(CURDIR)/build/wasmtest/run.mjs" ./internal/kernels/ ./internal/engine/ .

## cli: build bin/nsfw (with the avx2 kernels on amd64)
cli:
	$(SIMD_ENV) $(GO) build -trimpath -o bin/nsfw ./cmd/nsfw

## node-deps: the benchmark/reference-only Node packages (nsfwjs, TF.js, playwright-core)
node-deps: build/node_modules/.package-lock.json
build/node_modules/.package-lock.json: build/package.json build/package-lock.json
	cd build && $(NPM) ci --no-audit --no-fund --loglevel=error

## model: regenerate the committed .nsfw files from the nsfwjs npm tarball
$(NSFWJS_TGZ):
	mkdir -p $(CACHE)
	$(NPM) pack nsfwjs@4.4.0 --pack-destination $(CACHE) --silent
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
