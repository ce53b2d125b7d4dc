#!/usr/bin/env node
// run.mjs runs a GOOS=js GOARCH=wasm binary (typically a test binary) under
// Node with the SIMD128 kernel module linked in as "nsfw_kernels", the way
// the JS shim does in browsers. It is a drop-in for Go's go_js_wasm_exec:
//
//	GOOS=js GOARCH=wasm go test -tags nsfw_simd \
//	    -exec "node $PWD/build/wasmtest/run.mjs" ./internal/kernels/
//
// (-exec runs in the package directory, hence the absolute path.)
//
// Arguments, environment, file system and exit code pass through as with
// go_js_wasm_exec. Environment knobs, read here and not passed to Go's
// decision logic:
//
//	NSFW_KERNELS_WASM=path  kernel module to link (default: ../../wasm/kernels/kernels.wasm
//	                        relative to this script)
//	NSFW_KERNELS=off        link stubs whose version() is 0, as a browser
//	                        without SIMD gets, so Go must fall back to its own kernels
//
// The host contract, which web/nsfw.js implements too: before instantiating
// Go, give it one trampoline per nsfw_kernels import; instantiate Go; then
// instantiate kernels.wasm with { env: { mem: goInstance.exports.mem } };
// only then run Go, so that its init sees version() >= 1.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TextDecoder, TextEncoder } from 'node:util';
import crypto from 'node:crypto';

const self = fileURLToPath(import.meta.url);

// Go's test binaries recurse deeply; go_js_wasm_exec raises V8's stack to
// 8 MB for the same reason. Node takes the flag only on its command line,
// so re-run this script with it once.
if (!process.execArgv.some((a) => a.startsWith('--stack-size'))) {
  const r = spawnSync(process.execPath, ['--stack-size=8192', self, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

if (process.argv.length < 3) {
  console.error('usage: node run.mjs program.wasm [arguments]');
  process.exit(2);
}

function goroot() {
  if (process.env.GOROOT) return process.env.GOROOT;
  return execFileSync('go', ['env', 'GOROOT'], { encoding: 'utf8' }).trim();
}

// wasm_exec.js (Go's own, matching the toolchain that built the binary)
// expects these globals, as wasm_exec_node.js provides them.
const require = createRequire(import.meta.url);
globalThis.require = require;
globalThis.fs = fs;
globalThis.path = path;
globalThis.TextEncoder = TextEncoder;
globalThis.TextDecoder = TextDecoder;
globalThis.crypto ??= crypto;
require(path.join(goroot(), 'lib', 'wasm', 'wasm_exec.js'));

const kernelsPath = process.env.NSFW_KERNELS_WASM ||
  path.join(path.dirname(self), '..', '..', 'wasm', 'kernels', 'kernels.wasm');
const kernelsOff = process.env.NSFW_KERNELS === 'off';

const go = new globalThis.Go();
go.argv = process.argv.slice(2);
go.env = Object.assign({ TMPDIR: os.tmpdir() }, process.env);
go.exit = process.exit;

const goModule = await WebAssembly.compile(fs.readFileSync(process.argv[2]));
let k = null;
const trampolines = {};
for (const imp of WebAssembly.Module.imports(goModule)) {
  if (imp.module !== 'nsfw_kernels' || imp.kind !== 'function') continue;
  const name = imp.name;
  trampolines[name] = name === 'version'
    ? () => (k ? k.version() : 0)
    : (...args) => {
      if (!k) throw new Error(`nsfw_kernels.${name} called but the kernel module is not linked`);
      return k[name](...args);
    };
}
go.importObject.nsfw_kernels = trampolines;

try {
  const instance = await WebAssembly.instantiate(goModule, go.importObject);
  if (!kernelsOff && Object.keys(trampolines).length > 0) {
    const kernelModule = await WebAssembly.compile(fs.readFileSync(kernelsPath));
    k = (await WebAssembly.instantiate(kernelModule, { env: { mem: instance.exports.mem } })).exports;
    for (const name of Object.keys(trampolines)) {
      if (typeof k[name] !== 'function') throw new Error(`${kernelsPath} does not export ${name}`);
    }
  }
  process.on('exit', (code) => { // Node exits when no event is pending
    if (code === 0 && !go.exited) {
      // deadlock: make Go print the error and stack traces
      go._pendingEvent = { id: 0 };
      go._resume();
    }
  });
  await go.run(instance);
} catch (err) {
  console.error(err);
  process.exit(1);
}
