// Benchmark page for this project: the shim as an application uses it,
// served under the product's strict CSP. ?kernels=go passes
// {kernelsURL: null} (the pure-Go kernels); the default loads kernels.wasm.
// Cold start runs on load; the harness then calls window.bench.*.
import { createDetector } from '../web/nsfw.js';
import { inputCanvas, copyCanvas, pixelHash, downloadsDone, timeRuns, publish } from './common.js';

const scriptMs = performance.now(); // nsfw.js and this module are loaded and evaluated
const kernels = new URLSearchParams(location.search).get('kernels') ?? 'simd';
const options = kernels === 'go' ? { kernelsURL: null } : {};

let detector;
let canvas;

async function coldStart() {
  let readyMs = 0;
  [detector, canvas] = await Promise.all([
    createDetector(options).then((d) => { readyMs = performance.now(); return d; }),
    inputCanvas(),
  ]);
  const r = await detector.classify(canvas);
  const firstMs = performance.now();
  return {
    scriptMs, readyMs, firstMs, downloadsMs: downloadsDone(),
    kernels: detector.info.kernels, macs: detector.info.macs, arenaBytes: detector.info.arenaBytes,
    probabilities: r.probabilities, hash: pixelHash(canvas),
  };
}

publish({
  // warm classifies the canvas n times: wall time of each classify call
  // (ms), and the engine's own time inside the worker (engineMs).
  async warm(n) {
    const engineMs = [];
    const ms = await timeRuns(n, async () => { engineMs.push((await detector.classify(canvas)).engineMs); });
    return { ms, engineMs };
  },

  // memory runs a main-thread engine (worker: false, so that its instance
  // is reachable) on n images and reports the byte length of its
  // WebAssembly.Memory: Go's linear memory, which the SIMD kernels share.
  async memory(n) {
    const instances = [];
    const instantiate = WebAssembly.instantiate;
    WebAssembly.instantiate = async function (...args) {
      const r = await instantiate.apply(this, args);
      instances.push(r instanceof WebAssembly.Instance ? r : r.instance);
      return r;
    };
    let d;
    try {
      d = await createDetector({ ...options, worker: false });
    } finally {
      WebAssembly.instantiate = instantiate;
    }
    const mem = instances.map((i) => i.exports.mem).find((m) => m instanceof WebAssembly.Memory);
    const initBytes = mem.buffer.byteLength;
    for (let i = 0; i < n; i++) await d.classify(canvas);
    const bytes = mem.buffer.byteLength;
    const info = d.info;
    d.dispose();
    return { initBytes, bytes, images: n, kernels: info.kernels, arenaBytes: info.arenaBytes };
  },

  // throughput classifies n canvases with classifyMany on a detector with
  // the given number of workers, after warm-up batches (warmup images per
  // worker, default 16) so that V8 has tiered the engine's hot code up.
  async throughput(workers, n, warmup = 16) {
    const d = await createDetector({ ...options, workers });
    try {
      const sources = Array.from({ length: n }, () => copyCanvas(canvas));
      await d.classifyMany(sources.slice(0, workers * warmup));
      const t = performance.now();
      const results = await d.classifyMany(sources);
      const ms = performance.now() - t;
      const failed = results.filter((r) => r instanceof Error).map((r) => r.message);
      return { workers, images: n, ms, perSecond: (n * 1000) / ms, failed, kernels: d.info.kernels };
    } finally {
      d.dispose();
    }
  },

  dispose() { detector?.dispose(); },
}, coldStart());
