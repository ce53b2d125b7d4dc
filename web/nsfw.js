// nsfw.js: NSFW image classification on the user's device.
//
// One ES module, no dependencies, no eval. It loads the Go engine compiled
// to WebAssembly (nsfw.wasm, weights embedded) and, where the browser has
// SIMD128, its kernel module (kernels.wasm), runs them in module Web
// Workers (this same file, started as a worker), reads pixels from any
// image source and returns the five class probabilities with a verdict.
//
//   import { createDetector } from './nsfw.js';
//   const detector = await createDetector();
//   const result = await detector.classify(imageElement);
//   if (result.nsfw) blur(imageElement);
//
// Pixels are read exactly as the Go engine and nsfwjs read them (alpha
// dropped, bilinear resize with aligned corners), but only the 2x224 rows
// and columns the resize samples are copied into WebAssembly memory, so an
// image of any size costs the same small buffer. See README.md.

export const VERSION = '0.1.0';

/** The classes, in the model's output order. */
export const CLASSES = Object.freeze(['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy']);

/** Every failure is an NSFWError; code says what kind. */
export class NSFWError extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.name = 'NSFWError';
    this.code = code; // 'load' | 'decode' | 'empty' | 'too-large' | 'unsupported' | 'disposed' | 'policy' | 'internal'
  }
}

/** Images larger than this many pixels are refused before decoding (as the Go CLI does). */
export const DEFAULT_MAX_PIXELS = 50_000_000;
/** Frames sampled from an animated image. */
export const DEFAULT_MAX_FRAMES = 8;

const WORKER_NAME = 'nsfw-engine';
const inWorker = typeof WorkerGlobalScope !== 'undefined' && globalThis instanceof WorkerGlobalScope;

// ---------------------------------------------------------------------------
// Feature detection and module loading (main thread).

// A module whose only function returns i8x16.splat(i32.const 0): it
// validates only where WebAssembly SIMD128 is supported.
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type: () -> v128
  0x03, 0x02, 0x01, 0x00, // func 0 has type 0
  0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x00, 0xfd, 0x0f, 0x0b, // code: i32.const 0; i8x16.splat; end
]);

/** Reports whether this browser runs WebAssembly SIMD128. */
export function hasSIMD() {
  try {
    return WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

async function compile(url, what) {
  let response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new NSFWError('load', `could not fetch ${what} from ${url}: ${err.message}`, { cause: err });
  }
  if (!response.ok) {
    throw new NSFWError('load', `could not fetch ${what} from ${url}: HTTP ${response.status}`);
  }
  try {
    // Streaming compilation needs the application/wasm MIME type; fall back
    // to compiling the bytes when a server sends something else.
    if (WebAssembly.compileStreaming && response.headers.get('Content-Type')?.startsWith('application/wasm')) {
      return await WebAssembly.compileStreaming(response);
    }
    return await WebAssembly.compile(await response.arrayBuffer());
  } catch (err) {
    throw new NSFWError('load', `could not compile ${what} (${url}): ${err.message}`, { cause: err });
  }
}

// warmKernels runs each SIMD kernel on a scratch memory while the engine
// still downloads. V8 runs new wasm code in its baseline tier and compiles
// the code that has run enough in its optimizing tier, in the background;
// the compiled code belongs to the module, so the engine's own instance
// then dequantizes the weights and classifies its first image with the
// optimized kernels (measured: first result 10–12 ms sooner). Failure
// only skips this.
async function warmKernels(kernels) {
  try {
    const mem = new WebAssembly.Memory({ initial: 4 }); // 256 KiB of zeros
    const k = (await WebAssembly.instantiate(kernels, { env: { mem } })).exports;
    const A = 0, B = 40960, C = 81920, D = 122880, W = 204800, BIAS = 245760; // regions of mem
    for (let i = 0; i < 30; i++) { // enough runs to use up V8's tier-up budget
      k.gemm(C, A, B, BIAS, 40, 64, 72, 0, 6);
      k.gemm(C, A, B, BIAS, 3, 60, 67, -Infinity, Infinity);
      k.depthwise3x3(D, A, W, BIAS, 12, 12, 12, 12, 1, 1, 1, 1, 52, 0, 6);
      k.depthwise3x3(D, A, W, BIAS, 13, 13, 7, 7, 2, 2, 1, 1, 51, 0, 6);
      k.im2col(C, A, 25, 25, 3, 3, 3, 2, 2, 0, 0, 12, 0, 12);
      k.dequantize(C, A, 8192, 0.01, -1, 0, 0);
      k.dequantize(C, A, 8192, 0.01, -1, BIAS, 64);
    }
  } catch {
    // a kernel module of another version: the engine checks it at start
  }
}

// ---------------------------------------------------------------------------
// The engine: one Go instance, wherever it runs (a worker or this thread).

let wasmExecLoaded;

async function loadWasmExec(url) {
  if (globalThis.Go) return;
  // wasm_exec.js is Go's own glue, a classic script that defines
  // globalThis.Go; importing it as a module runs it the same way and works
  // in module workers, where importScripts does not.
  wasmExecLoaded ??= import(url).catch((err) => {
    wasmExecLoaded = undefined;
    throw new NSFWError('load', `could not load Go's wasm_exec.js from ${url}: ${err.message}`, { cause: err });
  });
  await wasmExecLoaded;
  if (!globalThis.Go) throw new NSFWError('load', `${url} did not define Go's runtime glue`);
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

class Engine {
  constructor(instance) {
    this.x = instance.exports;
  }

  text(n) {
    const p = this.x.nsfw_text(n);
    return decoder.decode(new Uint8Array(this.x.mem.buffer, p, n));
  }

  check(n, code = 'internal') {
    if (n !== 0) throw new NSFWError(errorCode(this.text(n), code), this.text(n));
  }

  info() {
    return JSON.parse(this.text(this.x.nsfw_info()));
  }

  setPolicy(policy) {
    const bytes = encoder.encode(policy);
    const p = this.x.nsfw_text(bytes.length);
    new Uint8Array(this.x.mem.buffer, p, bytes.length).set(bytes);
    const n = this.x.nsfw_set_policy(bytes.length);
    if (n !== 0) throw new NSFWError('policy', this.text(n));
  }

  buffer(n) {
    const p = this.x.nsfw_buffer(n);
    if (!p) throw new NSFWError('too-large', `a ${n}-byte pixel buffer is over the engine's limit`);
    return new Uint8Array(this.x.mem.buffer, p, n);
  }

  result() {
    const r = new Float32Array(this.x.mem.buffer, this.x.nsfw_result(), 8);
    return { probabilities: Array.from(r.subarray(0, 5)), nsfwScore: r[5], nsfw: r[6] === 1, engineMs: r[7] };
  }

  // classifyPixels classifies RGBA pixels (row stride in bytes).
  classifyPixels(data, width, height) {
    this.buffer(data.length).set(data);
    this.check(this.x.nsfw_classify(width, height, width * 4, 0));
    return this.result();
  }

  // classifyDrawable reads a bitmap (or video frame) through a canvas,
  // copying only the rows and columns the resize samples.
  classifyDrawable(image, width, height) {
    this.check(this.x.nsfw_taps(width, height));
    const info = new Int32Array(this.x.mem.buffer, this.x.nsfw_taps_info(), 5);
    const [gw, gh, , rowsPtr, colsPtr] = info;
    if (width * height <= gw * gh) {
      const ctx = context2d(width, height);
      ctx.drawImage(image, 0, 0);
      return this.classifyPixels(ctx.getImageData(0, 0, width, height).data, width, height);
    }
    // Copy the tap lists out before buffer() can grow (and detach) memory.
    const rows = new Int32Array(this.x.mem.buffer, rowsPtr, gh).slice();
    const cols = new Int32Array(this.x.mem.buffer, colsPtr, gw).slice();
    const ctx = context2d(width, gh);
    for (let i = 0; i < gh; i++) ctx.drawImage(image, 0, rows[i], width, 1, 0, i, width, 1);
    const strip = new Uint32Array(ctx.getImageData(0, 0, width, gh).data.buffer);
    const grid = this.buffer(gw * gh * 4);
    const grid32 = new Uint32Array(grid.buffer, grid.byteOffset, gw * gh);
    for (let i = 0; i < gh; i++) {
      const src = i * width;
      const dst = i * gw;
      for (let j = 0; j < gw; j++) grid32[dst + j] = strip[src + cols[j]];
    }
    this.check(this.x.nsfw_classify_taps(gw * 4));
    return this.result();
  }
}

function errorCode(message, fallback) {
  if (/zero width or height|empty/i.test(message)) return 'empty';
  return fallback;
}

function context2d(width, height) {
  const canvas = typeof OffscreenCanvas !== 'undefined'
    ? new OffscreenCanvas(width, height)
    : Object.assign(document.createElement('canvas'), { width, height });
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new NSFWError('internal', `could not create a ${width}x${height} canvas`);
  ctx.imageSmoothingEnabled = false; // 1:1 copies only, never resampled
  return ctx;
}

async function startEngine({ wasm, kernels, wasmExecURL, policy }) {
  await loadWasmExec(wasmExecURL);
  const go = new globalThis.Go();
  // The Go binary imports its SIMD kernels from "nsfw_kernels". They live in
  // another module that shares Go's memory, so JS trampolines forward the
  // calls; without SIMD the stubs report version 0 and Go uses its own
  // kernels.
  let k = null;
  const imports = {};
  for (const imp of WebAssembly.Module.imports(wasm)) {
    if (imp.module !== 'nsfw_kernels' || imp.kind !== 'function') continue;
    imports[imp.name] = imp.name === 'version'
      ? () => (k ? k.version() : 0)
      : (...args) => {
        if (!k) throw new Error(`kernel ${imp.name} called without the SIMD module`);
        return k[imp.name](...args);
      };
  }
  go.importObject.nsfw_kernels = imports;
  let instance;
  try {
    instance = await WebAssembly.instantiate(wasm, go.importObject);
    if (kernels) k = (await WebAssembly.instantiate(kernels, { env: { mem: instance.exports.mem } })).exports;
  } catch (err) {
    throw new NSFWError('load', `could not instantiate the engine: ${err.message}`, { cause: err });
  }
  go.run(instance); // returns once main blocks; the exports stay callable
  const engine = new Engine(instance);
  engine.check(instance.exports.nsfw_init(), 'load');
  if (policy) engine.setPolicy(policy);
  // No warm-up run of the whole model: it would cost more start-up time
  // than the first image loses to V8's baseline tier (see warmKernels).
  return engine;
}

// ---------------------------------------------------------------------------
// Reading image sources. readSource runs where the engine runs; the main
// thread first turns DOM-bound sources into transferable ones (prepare).

const MAGIC = [
  ['png', [0x89, 0x50, 0x4e, 0x47]],
  ['jpeg', [0xff, 0xd8, 0xff]],
  ['gif', [0x47, 0x49, 0x46, 0x38]],
  ['bmp', [0x42, 0x4d]],
];

// sniff reads the format and size from the first bytes of a file, so that
// non-images and decompression bombs are refused before decoding.
function sniff(b) {
  const at = (i) => b[i] ?? 0;
  const u32be = (i) => ((at(i) << 24) | (at(i + 1) << 16) | (at(i + 2) << 8) | at(i + 3)) >>> 0;
  const u16be = (i) => (at(i) << 8) | at(i + 1);
  const u16le = (i) => at(i) | (at(i + 1) << 8);
  const ascii = (i, n) => String.fromCharCode(...b.subarray(i, i + n));
  let format = null;
  for (const [name, sig] of MAGIC) if (sig.every((v, i) => b[i] === v)) format = name;
  if (ascii(0, 4) === 'RIFF' && ascii(8, 4) === 'WEBP') format = 'webp';
  if (ascii(4, 4) === 'ftyp') format = /avif|avis/.test(ascii(8, 4)) ? 'avif' : 'heif';
  const out = { format, width: 0, height: 0, animated: false };
  if (format === 'png') {
    out.width = u32be(16); out.height = u32be(20);
    out.animated = indexOf(b, [0x61, 0x63, 0x54, 0x4c]) >= 0; // APNG's acTL chunk precedes IDAT
  } else if (format === 'gif') {
    out.width = u16le(6); out.height = u16le(8);
    out.animated = true; // frame count is known only after decoding
  } else if (format === 'bmp') {
    out.width = Math.abs(at(18) | (at(19) << 8) | (at(20) << 16) | (at(21) << 24));
    out.height = Math.abs(at(22) | (at(23) << 8) | (at(24) << 16) | (at(25) << 24));
  } else if (format === 'webp') {
    const chunk = ascii(12, 4);
    if (chunk === 'VP8X') {
      out.animated = (at(20) & 0x02) !== 0;
      out.width = 1 + (at(24) | (at(25) << 8) | (at(26) << 16));
      out.height = 1 + (at(27) | (at(28) << 8) | (at(29) << 16));
    } else if (chunk === 'VP8L') {
      const bits = at(21) | (at(22) << 8) | (at(23) << 16) | (at(24) << 24);
      out.width = 1 + (bits & 0x3fff); out.height = 1 + ((bits >>> 14) & 0x3fff);
    } else if (chunk === 'VP8 ') {
      out.width = u16le(26) & 0x3fff; out.height = u16le(28) & 0x3fff;
    }
  } else if (format === 'jpeg') {
    // Walk the segments to the first start-of-frame marker.
    let i = 2;
    while (i + 9 < b.length) {
      if (at(i) !== 0xff) { i++; continue; }
      const marker = at(i + 1);
      if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
        out.height = u16be(i + 5); out.width = u16be(i + 7);
        break;
      }
      if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) { i += 2; continue; }
      i += 2 + u16be(i + 2);
    }
  }
  return out;
}

function indexOf(b, needle) {
  outer: for (let i = 0; i + needle.length <= b.length; i++) {
    for (let j = 0; j < needle.length; j++) if (b[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function describe(b) {
  if (b.length === 0) return 'the file is empty';
  const text = b.subarray(0, 64).every((c) => c === 9 || c === 10 || c === 13 || (c >= 32 && c < 127));
  if (text) return 'it looks like text, not an image';
  return 'unknown format';
}

// frameIndexes picks up to max frames spread over n, first and last
// included: the same frames the Go decoder samples (imageio.sampleIndices).
function frameIndexes(n, max) {
  const k = Math.min(max, n);
  if (k <= 1) return [0];
  const out = [];
  for (let j = 0; j < k; j++) out.push(Math.floor((j * (n - 1) + Math.floor((k - 1) / 2)) / (k - 1)));
  return out;
}

async function decodeBlob(blob, opts) {
  const head = new Uint8Array(await blob.slice(0, 64 * 1024).arrayBuffer());
  const info = sniff(head);
  if (!info.format) {
    throw new NSFWError('unsupported', `not an image: ${describe(head)}${blob.type ? ` (type ${blob.type})` : ''}`);
  }
  if (info.width * info.height > opts.maxPixels) {
    throw new NSFWError('too-large', `the image is ${info.width}x${info.height} = ${(info.width * info.height / 1e6).toFixed(1)} MP, over the ${(opts.maxPixels / 1e6).toFixed(0)} MP limit`);
  }
  if (info.animated && typeof ImageDecoder !== 'undefined') {
    const type = { gif: 'image/gif', png: 'image/png', webp: 'image/webp' }[info.format];
    let dec;
    try {
      if (await ImageDecoder.isTypeSupported(type)) {
        dec = new ImageDecoder({ data: await blob.arrayBuffer(), type });
        await dec.tracks.ready;
        const count = dec.tracks.selectedTrack?.frameCount ?? 1;
        const frames = [];
        for (const i of frameIndexes(count, opts.maxFrames)) {
          const { image } = await dec.decode({ frameIndex: i });
          frames.push({ image, index: i });
        }
        return { frames, frameCount: count };
      }
    } catch (err) {
      throw new NSFWError('decode', `could not decode the ${info.format.toUpperCase()} image: ${err.message}`, { cause: err });
    } finally {
      dec?.close();
    }
  }
  try {
    const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', imageOrientation: 'from-image' });
    return { frames: [{ image: bitmap, index: 0 }], frameCount: 1 };
  } catch (err) {
    if (info.format === 'heif' || info.format === 'avif') {
      throw new NSFWError('unsupported', `this browser cannot decode ${info.format.toUpperCase()} images: ${err.message}`, { cause: err });
    }
    throw new NSFWError('decode', `could not decode the ${info.format.toUpperCase()} image: ${err.message}`, { cause: err });
  }
}

// readSource classifies what prepare produced: {kind: 'pixels'|'bitmap'|'blob'}.
async function classifyInput(engine, input, opts) {
  if (input.kind === 'pixels') {
    if (!input.width || !input.height) throw new NSFWError('empty', `the image is ${input.width}x${input.height}: it has zero width or height`);
    return { ...engine.classifyPixels(input.data, input.width, input.height), frame: 0, frames: 1, frameCount: 1, width: input.width, height: input.height };
  }
  if (input.kind === 'bitmap') {
    const { bitmap } = input;
    try {
      if (!bitmap.width || !bitmap.height) throw new NSFWError('empty', `the image is ${bitmap.width}x${bitmap.height}: it has zero width or height`);
      return { ...engine.classifyDrawable(bitmap, bitmap.width, bitmap.height), frame: 0, frames: 1, frameCount: 1, width: bitmap.width, height: bitmap.height };
    } finally {
      bitmap.close?.();
    }
  }
  const { frames, frameCount } = await decodeBlob(input.blob, opts);
  let best = null;
  try {
    for (const { image, index } of frames) {
      const w = image.displayWidth ?? image.width;
      const h = image.displayHeight ?? image.height;
      if (!w || !h) throw new NSFWError('empty', `the image is ${w}x${h}: it has zero width or height`);
      if (w * h > opts.maxPixels) throw new NSFWError('too-large', `the image is ${w}x${h}, over the ${(opts.maxPixels / 1e6).toFixed(0)} MP limit`);
      const r = engine.classifyDrawable(image, w, h);
      if (!best || r.nsfwScore > best.nsfwScore) best = { ...r, frame: index, width: w, height: h };
    }
  } finally {
    for (const { image } of frames) image.close?.();
  }
  return { ...best, frames: frames.length, frameCount };
}

// prepare turns any supported source into something a worker can take:
// DOM elements become ImageBitmaps (transferred), Blobs pass by reference.
async function prepare(source) {
  const g = globalThis;
  if (source == null) throw new NSFWError('unsupported', 'no image given (got ' + source + ')');
  if (g.Blob && source instanceof g.Blob) return { input: { kind: 'blob', blob: source } };
  if (g.ImageData && source instanceof g.ImageData) {
    // Copied, not transferred: the caller keeps its ImageData.
    return { input: { kind: 'pixels', data: source.data, width: source.width, height: source.height } };
  }
  if (isPixelsLike(source)) {
    return { input: { kind: 'pixels', data: source.data, width: source.width, height: source.height } };
  }
  let w = 0;
  let h = 0;
  if (g.HTMLImageElement && source instanceof g.HTMLImageElement) {
    try {
      await source.decode();
    } catch (err) {
      throw new NSFWError('decode', `could not decode the image ${source.currentSrc || source.src}: ${err.message}`, { cause: err });
    }
    w = source.naturalWidth; h = source.naturalHeight;
  } else if (g.HTMLVideoElement && source instanceof g.HTMLVideoElement) {
    if (source.readyState < 2) throw new NSFWError('decode', 'the video has no current frame yet (wait for loadeddata)');
    w = source.videoWidth; h = source.videoHeight;
  } else if ((g.HTMLCanvasElement && source instanceof g.HTMLCanvasElement) || (g.OffscreenCanvas && source instanceof g.OffscreenCanvas) ||
    (g.ImageBitmap && source instanceof g.ImageBitmap) || (g.VideoFrame && source instanceof g.VideoFrame) ||
    (g.SVGImageElement && source instanceof g.SVGImageElement)) {
    w = source.width ?? source.displayWidth; h = source.height ?? source.displayHeight;
  } else {
    throw new NSFWError('unsupported', `cannot classify a ${Object.prototype.toString.call(source).slice(8, -1)}: pass an image, canvas, video, ImageBitmap, ImageData, Blob or File`);
  }
  if (!w || !h) throw new NSFWError('empty', `the image is ${w}x${h}: it has zero width or height`);
  let bitmap;
  try {
    bitmap = await createImageBitmap(source);
  } catch (err) {
    throw new NSFWError('decode', `could not read the pixels: ${err.message}`, { cause: err });
  }
  return { input: { kind: 'bitmap', bitmap }, transfer: [bitmap] };
}

function isPixelsLike(s) {
  return typeof s === 'object' && (s.data instanceof Uint8ClampedArray || s.data instanceof Uint8Array) &&
    Number.isInteger(s.width) && Number.isInteger(s.height) && s.data.length === s.width * s.height * 4;
}

// ---------------------------------------------------------------------------
// Results and policy.

function finish(raw, policy, startedAt) {
  const probabilities = {};
  CLASSES.forEach((c, i) => { probabilities[c] = raw.probabilities[i]; });
  const sorted = CLASSES.map((className, i) => ({ className, probability: raw.probabilities[i] }))
    .sort((a, b) => b.probability - a.probability);
  return {
    probabilities,
    sorted,
    top: sorted[0].className,
    nsfwScore: raw.nsfwScore,
    nsfw: raw.nsfw,
    verdict: raw.nsfw ? 'nsfw' : 'safe',
    policy,
    frame: raw.frame,
    frames: raw.frames,
    frameCount: raw.frameCount,
    width: raw.width,
    height: raw.height,
    engineMs: raw.engineMs,
    ms: performance.now() - startedAt,
  };
}

/**
 * Applies a policy to probabilities, as the engine does: NSFW when Porn,
 * Hentai or Sexy reaches its threshold or their sum reaches `sum`; a
 * threshold of 0 is off. For re-judging stored results without running the
 * model again.
 */
export function evaluate(probabilities, policy) {
  const p = (c) => (Array.isArray(probabilities) ? probabilities[CLASSES.indexOf(c)] : probabilities[c]) ?? 0;
  // Thresholds are float32 in the engine: compare against the same values.
  const fires = (t, v) => t > 0 && v >= Math.fround(t);
  const sum = Math.fround(Math.fround(p('Porn') + p('Hentai')) + p('Sexy'));
  return fires(policy.porn, p('Porn')) || fires(policy.hentai, p('Hentai')) || fires(policy.sexy, p('Sexy')) || fires(policy.sum, sum);
}

function policyString(policy) {
  if (policy == null) return null;
  if (typeof policy === 'string') return policy;
  if (typeof policy === 'object') {
    const keys = Object.keys(policy).filter((k) => !['porn', 'hentai', 'sexy', 'sum'].includes(k));
    if (keys.length) throw new NSFWError('policy', `unknown policy field ${keys[0]} (want porn, hentai, sexy, sum)`);
    return ['porn', 'hentai', 'sexy', 'sum'].map((k) => `${k}=${Number(policy[k] ?? 0)}`).join(',');
  }
  throw new NSFWError('policy', `a policy is a preset name, a threshold string or an object, not ${typeof policy}`);
}

// ---------------------------------------------------------------------------
// The worker side: this module, started with name 'nsfw-engine'.

if (inWorker && globalThis.name === WORKER_NAME) {
  let engine = null;
  globalThis.onmessage = async ({ data: msg }) => {
    const reply = (value, transfer) => globalThis.postMessage({ id: msg.id, ok: true, value }, transfer ?? []);
    try {
      switch (msg.op) {
        case 'prepare':
          await loadWasmExec(msg.wasmExecURL);
          reply(true);
          break;
        case 'warm':
          await warmKernels(msg.kernels);
          reply(true);
          break;
        case 'init':
          engine = await startEngine(msg);
          reply(engine.info());
          break;
        case 'classify':
          reply(await classifyInput(engine, msg.input, msg.opts));
          break;
        case 'policy':
          engine.setPolicy(msg.policy);
          reply(engine.info().Policy);
          break;
        default:
          throw new NSFWError('internal', `unknown message ${msg.op}`);
      }
    } catch (err) {
      globalThis.postMessage({ id: msg.id, ok: false, error: { code: err.code ?? 'internal', message: err.message ?? String(err) } });
    }
  };
}

// ---------------------------------------------------------------------------
// The public API.

class WorkerHost {
  constructor(url) {
    this.pending = new Map();
    this.next = 1;
    this.dead = null;
    this.worker = new Worker(url, { type: 'module', name: WORKER_NAME });
    this.worker.onmessage = ({ data }) => {
      const p = this.pending.get(data.id);
      if (!p) return;
      this.pending.delete(data.id);
      if (data.ok) p.resolve(data.value);
      else p.reject(new NSFWError(data.error.code, data.error.message));
    };
    const fail = (message) => {
      this.dead = new NSFWError('internal', message);
      for (const p of this.pending.values()) p.reject(this.dead);
      this.pending.clear();
    };
    this.worker.onerror = (e) => { e.preventDefault?.(); fail(`the engine worker failed: ${e.message || 'script error (check that the worker URL is served as JavaScript)'}`); };
    this.worker.onmessageerror = () => fail('the engine worker could not read a message');
  }

  call(op, payload = {}, transfer = []) {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, op, ...payload }, transfer);
    });
  }

  get load() { return this.pending.size; }

  terminate(reason) {
    this.worker.terminate();
    for (const p of this.pending.values()) p.reject(reason);
    this.pending.clear();
    this.dead = reason;
  }
}

class LocalHost {
  constructor(engine) { this.engine = engine; this.load = 0; }
  async call(op, payload) {
    if (this.dead) throw this.dead;
    this.load++;
    try {
      if (op === 'classify') return await classifyInput(this.engine, payload.input, payload.opts);
      if (op === 'policy') { this.engine.setPolicy(payload.policy); return this.engine.info().Policy; }
      throw new NSFWError('internal', `unknown operation ${op}`);
    } finally {
      this.load--;
    }
  }
  terminate(reason) { this.dead = reason; }
}

/**
 * Creates a detector. Options:
 *   wasmURL     URL of nsfw.wasm (default: next to this module)
 *   kernelsURL  URL of kernels.wasm, the SIMD128 kernels (default: next to this module; null disables)
 *   wasmExecURL URL of Go's wasm_exec.js (default: next to this module)
 *   workerURL   URL of this module, to start workers from (default: import.meta.url)
 *   worker      run in Web Workers (default true); false runs on the calling thread
 *   workers     how many workers, each with its own engine (default 1)
 *   policy      'strict' | 'balanced' | 'lenient' | {porn, hentai, sexy, sum} | 'porn=0.5,...' (default 'balanced')
 *   maxPixels   refuse larger images before decoding (default 50 MP)
 *   maxFrames   frames sampled from animations (default 8)
 * A failed createDetector can simply be called again.
 */
export async function createDetector(options = {}) {
  const here = import.meta.url;
  const url = (v, name) => (v === undefined ? new URL(name, here) : v === null ? null : new URL(v, globalThis.location?.href ?? here));
  const wasmURL = url(options.wasmURL, './nsfw.wasm');
  const kernelsURL = url(options.kernelsURL, './kernels.wasm');
  const wasmExecURL = url(options.wasmExecURL, './wasm_exec.js').href;
  const useWorker = options.worker ?? true;
  const count = Math.max(1, Math.floor(options.workers ?? 1));
  const opts = { maxPixels: options.maxPixels ?? DEFAULT_MAX_PIXELS, maxFrames: options.maxFrames ?? DEFAULT_MAX_FRAMES };
  const policy = policyString(options.policy ?? 'balanced');
  if (useWorker && typeof Worker === 'undefined') throw new NSFWError('load', 'this environment has no Web Workers: pass { worker: false }');

  const simd = hasSIMD() && kernelsURL !== null;
  const hosts = [];
  let info;
  try {
    // Workers start, and load this module and Go's glue, while the main
    // thread downloads and compiles the engine.
    const prepared = [];
    if (useWorker) {
      for (let i = 0; i < count; i++) hosts.push(new WorkerHost(options.workerURL ?? here));
      for (const h of hosts) prepared.push(h.call('prepare', { wasmExecURL }));
    }
    const [wasm, kernels] = await Promise.all([
      compile(wasmURL, 'the engine (nsfw.wasm)'),
      simd ? compile(kernelsURL, 'the SIMD kernels (kernels.wasm)').then((k) => {
        // Warmed where each engine will run, while nsfw.wasm downloads.
        if (useWorker) for (const h of hosts) h.call('warm', { kernels: k }).catch(() => {});
        else warmKernels(k);
        return k;
      }, () => null) : null,
      ...prepared,
    ]);
    if (useWorker) {
      const infos = await Promise.all(hosts.map((h) => h.call('init', { wasm, kernels, wasmExecURL, policy })));
      info = infos[0];
    } else {
      for (let i = 0; i < count; i++) {
        const engine = await startEngine({ wasm, kernels, wasmExecURL, policy });
        info = engine.info();
        hosts.push(new LocalHost(engine));
      }
    }
  } catch (err) {
    for (const h of hosts) h.terminate(err);
    throw err instanceof NSFWError ? err : new NSFWError('load', `could not start the engine: ${err.message}`, { cause: err });
  }
  return new Detector(hosts, info, opts);
}

class Detector {
  #hosts;
  #opts;
  #disposed = null;
  #policy;

  constructor(hosts, info, opts) {
    this.#hosts = hosts;
    this.#opts = opts;
    this.#policy = toJSPolicy(info.Policy);
    /** Model description: name, source, license, classes, MACs, kernels ('wasm-simd128' or 'go'). */
    this.info = Object.freeze({
      name: info.Name, description: info.Description, source: info.Source, license: info.License, copyright: info.Copyright,
      classes: info.Classes, inputWidth: info.InputWidth, inputHeight: info.InputHeight, macs: info.MACs,
      arenaBytes: info.ArenaBytes, kernels: info.Kernels, workers: hosts.length,
    });
    /** The engine's policy presets. */
    this.presets = Object.freeze(Object.fromEntries(Object.entries(info.Presets).map(([k, v]) => [k, Object.freeze(toJSPolicy(v))])));
  }

  /** The current policy as {porn, hentai, sexy, sum}. */
  get policy() { return { ...this.#policy }; }

  #check() {
    if (this.#disposed) throw this.#disposed;
  }

  #host() {
    let best = this.#hosts[0];
    for (const h of this.#hosts) if (h.load < best.load) best = h;
    return best;
  }

  /** Classifies one image source; see README for the result's fields. */
  async classify(source) {
    this.#check();
    const startedAt = performance.now();
    const { input, transfer } = await prepare(source);
    this.#check();
    const raw = await this.#host().call('classify', { input, opts: this.#opts }, transfer);
    return finish(raw, this.policy, startedAt);
  }

  /**
   * Classifies many sources across the workers. Resolves to an array in the
   * same order whose entries are results, or NSFWErrors for the sources
   * that failed.
   */
  async classifyMany(sources) {
    this.#check();
    return Promise.all(Array.from(sources, (s) => this.classify(s).catch((err) => (err instanceof NSFWError ? err : new NSFWError('internal', String(err?.message ?? err))))));
  }

  /** Changes the policy of every engine. */
  async setPolicy(policy) {
    this.#check();
    const s = policyString(policy);
    const [p] = await Promise.all(this.#hosts.map((h) => h.call('policy', { policy: s })));
    this.#policy = toJSPolicy(p);
    return this.policy;
  }

  /** Stops the workers. Later calls fail with code 'disposed'. */
  dispose() {
    if (this.#disposed) return;
    this.#disposed = new NSFWError('disposed', 'the detector was disposed; create a new one with createDetector()');
    for (const h of this.#hosts) h.terminate(this.#disposed);
  }
}

function toJSPolicy(p) {
  return { porn: p.porn ?? p.Porn ?? 0, hentai: p.hentai ?? p.Hentai ?? 0, sexy: p.sexy ?? p.Sexy ?? 0, sum: p.sum ?? p.Sum ?? 0 };
}
