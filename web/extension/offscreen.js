// offscreen.js: the engine's host, an offscreen document that the service
// worker creates on demand. It fetches each image under the extension's own
// host permissions (so a page's CORS rules neither apply nor change, and no
// page canvas is ever tainted), decodes and classifies it in the engine's
// Web Workers, and caches the probabilities by URL. The verdict is taken
// per request from the engine's own policy presets, so a change of
// strictness re-judges cached images without running the model again.
import { createDetector, evaluate } from './engine/nsfw.js';
import { LRU } from './lru.js';

// MV3 gives extensions no cross-origin isolation, hence no wasm threads:
// throughput comes from several workers, each with its own engine.
const WORKERS = Math.min(4, Math.max(2, (navigator.hardwareConcurrency || 2) - 1));
const IDLE_MS = 2 * 60_000; // after this long without work, this document asks to be closed
const CACHE_ENTRIES = 2000;
const MAX_KEY_LENGTH = 4096; // longer URLs (data:) are not cached
const MAX_BYTES = 32 << 20;
const ICON_SIDE = 48; // as in content.js: smaller on both sides is an icon
const VIDEO_MIRRORS = 4;
const FRAME_SIDE = 224; // as in content-video.js
const SEEK_TIMEOUT_MS = 15_000;
const FAILURE_MS = 60_000; // a URL that could not be fetched is not tried again this soon

const cache = new LRU(CACHE_ENTRIES); // url -> {probabilities, width, height}
const failures = new LRU(200); // url -> {err, at}
const inflight = new Map(); // url -> Promise of the same
const mirrors = new LRU(VIDEO_MIRRORS, (m) => {
  m.video.removeAttribute('src');
  m.video.load();
});

let detecting = null; // Promise<Detector>
let presets = null; // the engine's policy presets (detector.presets)
let busy = 0;
let idleTimer = 0;

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  if (message?.target !== 'offscreen' || sender.id !== chrome.runtime.id) return false;
  handle(message).then(sendResponse, (err) => {
    sendResponse({ error: { code: err.code ?? 'internal', message: err.message ?? String(err) } });
  });
  return true;
});

async function handle(message) {
  busy++;
  clearTimeout(idleTimer);
  try {
    const policy = await policyFor(message.preset);
    let scores;
    if (message.type === 'classify-frame') scores = await videoFrameScores(message.url, message.time);
    else if (message.url) scores = await urlScores(message.url);
    else if (message.bytes) scores = await run((d) => classifyBlob(d, new Blob([fromBase64(message.bytes)], { type: message.mime })));
    else if (message.pixels) scores = await run((d) => d.classify({ ...message.pixels, data: fromBase64(message.pixels.data) }));
    else throw coded('internal', `unknown request ${message.type}`);
    return verdict(scores, policy);
  } finally {
    if (--busy === 0) idleTimer = setTimeout(askToClose, IDLE_MS);
  }
}

function verdict(scores, policy) {
  const icon = scores.width < ICON_SIDE && scores.height < ICON_SIDE;
  return {
    verdict: icon ? 'skipped' : evaluate(scores.probabilities, policy) ? 'nsfw' : 'safe',
    probabilities: scores.probabilities,
  };
}

async function policyFor(preset) {
  presets ??= (await detector()).presets;
  const policy = presets[preset ?? 'balanced'];
  if (!policy) throw coded('policy', `unknown preset ${preset}`);
  return policy;
}

// ---------------------------------------------------------------------------
// The engine: created on first use. When idle, the service worker closes
// this document, which frees the workers and their WebAssembly memory, the
// bulk of the extension's footprint; the cache goes with it.

function detector() {
  detecting ??= createDetector({ workers: WORKERS, maxFrames: 4 }).catch((err) => {
    detecting = null; // a later request tries again
    throw err;
  });
  return detecting;
}

async function run(task) {
  const d = await detector();
  let r;
  try {
    r = await task(d);
  } catch (err) {
    // A dead worker (crashed, out of memory) fails every later call: start
    // afresh on the next request.
    if (/engine worker/.test(err.message) && detecting) {
      detecting = null;
      d.dispose();
    }
    throw err;
  }
  return { probabilities: r.probabilities, width: r.width, height: r.height };
}

function askToClose() {
  if (!busy) chrome.runtime.sendMessage({ type: 'engine-idle' }).catch(() => {});
}

// ---------------------------------------------------------------------------
// Images by URL.

function urlScores(url) {
  const cached = cache.get(url);
  if (cached) return cached;
  const failed = failures.get(url);
  if (failed && Date.now() - failed.at < FAILURE_MS) throw failed.err;
  let p = inflight.get(url);
  if (!p) {
    p = fetchImage(url).then((blob) => run((d) => classifyBlob(d, blob)));
    inflight.set(url, p);
    const cacheable = url.length <= MAX_KEY_LENGTH;
    p.then((scores) => {
      if (cacheable) cache.set(url, scores);
    }, (err) => {
      if (cacheable && err.code === 'fetch') failures.set(url, { err, at: Date.now() });
    }).finally(() => inflight.delete(url));
  }
  return p;
}

async function fetchImage(url) {
  let res;
  try {
    // With the user's cookies, as the page itself asks for the image.
    res = await fetch(url, { credentials: 'include' });
  } catch (err) {
    throw coded('fetch', `could not fetch ${short(url)}: ${err.message}`);
  }
  if (!res.ok) throw coded('fetch', `HTTP ${res.status} for ${short(url)}`);
  if (Number(res.headers.get('Content-Length')) > MAX_BYTES) throw coded('too-large', `${short(url)} is over ${MAX_BYTES} bytes`);
  const blob = await res.blob();
  if (blob.size > MAX_BYTES) throw coded('too-large', `${short(url)} is over ${MAX_BYTES} bytes`);
  return blob;
}

// classifyBlob hands the bytes to the engine, which sniffs and decodes them
// in its worker. Formats it does not sniff but the browser shows (SVG,
// ICO) are decoded here by an <img> first.
async function classifyBlob(d, blob) {
  try {
    return await d.classify(blob);
  } catch (err) {
    if (err.code !== 'unsupported') throw err;
    const objectURL = URL.createObjectURL(blob);
    try {
      const img = new Image();
      img.src = objectURL;
      await img.decode();
      return await d.classify(img);
    } catch {
      throw err;
    } finally {
      URL.revokeObjectURL(objectURL);
    }
  }
}

// ---------------------------------------------------------------------------
// Frames of cross-origin videos that the page cannot read: the same URL,
// loaded here under the extension's host permissions and seeked to the
// page's time. One mirror per URL, kept for the next samples.

function videoFrameScores(url, time) {
  let m = mirrors.get(url);
  if (!m) {
    const video = document.createElement('video');
    video.crossOrigin = 'anonymous'; // CORS mode, which host permissions pass
    video.muted = true;
    video.preload = 'auto';
    video.src = url;
    m = { video, queue: Promise.resolve() };
    mirrors.set(url, m);
  }
  const job = m.queue.then(async () => {
    const { video } = m;
    if (video.readyState < HTMLMediaElement.HAVE_METADATA) await once(video, 'loadedmetadata');
    video.currentTime = Math.min(Math.max(0, time), video.duration || time);
    await once(video, 'seeked');
    if (video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA) await once(video, 'loadeddata');
    return run((d) => d.classify(readFrame(video)));
  });
  m.queue = job.catch(() => {});
  return job;
}

// readFrame reads a mirror's frame as the content script reads a page's.
function readFrame(video) {
  const ctx = new OffscreenCanvas(FRAME_SIDE, FRAME_SIDE).getContext('2d', { willReadFrequently: true });
  ctx.drawImage(video, 0, 0, FRAME_SIDE, FRAME_SIDE);
  let image;
  try {
    image = ctx.getImageData(0, 0, FRAME_SIDE, FRAME_SIDE);
  } catch {
    throw coded('unreadable', `the frames of ${short(video.src)} cannot be read here either (CORS)`);
  }
  // Nothing drawn (all transparent): the frame is not decoded yet.
  if (image.data.every((v, i) => i % 4 !== 3 || v === 0)) throw coded('no-frame', 'no frame yet');
  return image;
}

function once(video, event) {
  return new Promise((resolve, reject) => {
    const done = (fn) => (e) => {
      clearTimeout(timer);
      video.removeEventListener(event, ok);
      video.removeEventListener('error', fail);
      fn(e);
    };
    const ok = done(resolve);
    const fail = done(() => reject(coded('fetch', `could not load the video ${short(video.src)}`)));
    const timer = setTimeout(done(() => reject(coded('timeout', `the video ${short(video.src)} did not load`))), SEEK_TIMEOUT_MS);
    video.addEventListener(event, ok);
    video.addEventListener('error', fail);
  });
}

// ---------------------------------------------------------------------------

function coded(code, message) {
  return Object.assign(new Error(message), { code });
}

function short(url) {
  return url.length > 100 ? `${url.slice(0, 100)}…` : url;
}

function fromBase64(text) {
  const s = atob(text);
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return bytes;
}
