// Benchmark page for the peer: nsfwjs 4.4.0 with its bundled MobileNetV2
// on TF.js 4.22.0, served only from the harness's local server.
// ?backend=wasm|cpu; on the wasm backend ?threads=N asks XNNPACK for N
// threads, which TF.js uses only where SharedArrayBuffer exists (the page
// is cross-origin isolated), and otherwise loads the single-threaded SIMD
// binary. TF.js also caps the threads at navigator.hardwareConcurrency/2,
// so the harness raises what the threaded page sees (see ../main.go).
// Cold start runs on load; the harness then calls window.bench.*.
import * as tf from '@tensorflow/tfjs';
import * as nsfwjs from 'nsfwjs';
import { inputCanvas, pixelHash, downloadsDone, timeRuns, publish } from './common.js';

const scriptMs = performance.now(); // TF.js, nsfwjs and the model scripts are loaded and evaluated
const params = new URLSearchParams(location.search);
const backend = params.get('backend') ?? 'wasm';
const threads = Number(params.get('threads') ?? 1);

let model;
let canvas;
let wasmBackend = null;
let images = 0; // classify calls so far, for the memory figure

async function classify() {
  images++;
  return model.classify(canvas);
}

async function coldStart() {
  const input = inputCanvas();
  if (backend === 'wasm') {
    // Imported only here, so the cpu page does not download it.
    wasmBackend = await import('@tensorflow/tfjs-backend-wasm');
    wasmBackend.setWasmPaths(new URL('../node_modules/@tensorflow/tfjs-backend-wasm/dist/', location.href).href);
    wasmBackend.setThreadsCount(threads);
  }
  if (!(await tf.setBackend(backend))) throw new Error(`TF.js could not start its ${backend} backend`);
  await tf.ready();
  const backendMs = performance.now();
  model = await nsfwjs.load('MobileNetV2');
  const modelMs = performance.now();
  canvas = await input;
  const r = await classify();
  const firstMs = performance.now();
  const probabilities = Object.fromEntries(r.map((p) => [p.className, p.probability]));
  return {
    scriptMs, backendMs, modelMs, firstMs, downloadsMs: downloadsDone(),
    backend: tf.getBackend(), threads: wasmBackend ? wasmBackend.getThreadsCount() : 1,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    probabilities, hash: pixelHash(canvas),
  };
}

// The input as a tensor, for timing the graph alone.
let tensor = null;

async function predictOnly() {
  tensor ??= tf.tidy(() => tf.browser.fromPixels(canvas).toFloat().div(255).expandDims(0));
  const y = model.model.predict(tensor);
  await y.data();
  y.dispose();
}

publish({
  // warm classifies the canvas n times (wall time of each classify call);
  // with graph, it alternates each with a run of the graph alone (predict
  // on a ready input tensor, read back), so both see the same noise.
  async warm(n, graph = false) {
    const ms = [];
    const graphMs = [];
    for (let i = 0; i < n; i++) {
      ms.push(...await timeRuns(1, classify));
      if (graph) graphMs.push(...await timeRuns(1, predictOnly));
    }
    return { ms, graphMs };
  },

  // kernels counts the TF.js kernels one inference dispatches (tf.profile).
  async kernels() {
    await predictOnly();
    const prof = await tf.profile(() => model.model.predict(tensor));
    prof.result.dispose();
    return prof.kernels.length;
  },

  // memory classifies until the page has classified n images in all, then
  // reports the wasm backend's heap (the Emscripten module's
  // WebAssembly.Memory, HEAPU8.byteLength) and TF.js's tensor bytes.
  async memory(n) {
    while (images < n) await classify();
    const heap = backend === 'wasm' ? tf.backend().wasm.HEAPU8.byteLength : 0;
    const m = tf.memory();
    return { images, bytes: heap, tensorBytes: m.numBytes, tensors: m.numTensors };
  },
}, coldStart());
