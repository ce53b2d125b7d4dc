// Test harness for internal/e2e: thin helpers over the public API of
// ../nsfw.js, called by the Go tests through the DevTools protocol.
import { createDetector, evaluate, NSFWError, CLASSES } from '../nsfw.js';

const violations = [];
document.addEventListener('securitypolicyviolation', (e) => violations.push(`${e.violatedDirective}: ${e.blockedURI}`));

let detector = null;

const plain = (r) => JSON.parse(JSON.stringify(r));
const fail = (err) => ({ error: true, code: err?.code ?? null, message: String(err?.message ?? err), isError: err instanceof Error, isNSFWError: err instanceof NSFWError });

async function blobOf(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.blob();
}

async function loadImage(url) {
  const img = new Image();
  img.src = url;
  await img.decode();
  return img;
}

window.t = {
  async init(opts = {}) {
    detector?.dispose();
    detector = null;
    const t0 = performance.now();
    try {
      detector = await createDetector(opts);
    } catch (err) {
      return fail(err);
    }
    return { ms: performance.now() - t0, info: detector.info, presets: detector.presets };
  },

  // classify fetches url and classifies it as the given kind of source.
  async classify(url, kind = 'blob') {
    try {
      let source;
      switch (kind) {
        case 'blob': source = await blobOf(url); break;
        case 'file': source = new File([await blobOf(url)], url.split('/').pop(), { type: 'image/png' }); break;
        case 'img': source = await loadImage(url); break;
        case 'bitmap': source = await createImageBitmap(await blobOf(url)); break;
        case 'canvas': case 'offscreen': case 'imagedata': {
          const bmp = await createImageBitmap(await blobOf(url), { colorSpaceConversion: 'none' });
          const c = kind === 'offscreen' ? new OffscreenCanvas(bmp.width, bmp.height) : Object.assign(document.createElement('canvas'), { width: bmp.width, height: bmp.height });
          const ctx = c.getContext('2d');
          ctx.drawImage(bmp, 0, 0);
          source = kind === 'imagedata' ? ctx.getImageData(0, 0, bmp.width, bmp.height) : c;
          break;
        }
        default: throw new Error(`unknown kind ${kind}`);
      }
      return plain(await detector.classify(source));
    } catch (err) {
      return fail(err);
    }
  },

  // pixels returns the RGBA the shim reads from url's first frame (same
  // decode options), base64, for the native engine to classify.
  async pixels(url) {
    const bmp = await createImageBitmap(await blobOf(url), { colorSpaceConversion: 'none', imageOrientation: 'from-image' });
    const c = new OffscreenCanvas(bmp.width, bmp.height);
    const ctx = c.getContext('2d', { willReadFrequently: true });
    ctx.drawImage(bmp, 0, 0);
    const data = ctx.getImageData(0, 0, bmp.width, bmp.height).data;
    let s = '';
    for (let i = 0; i < data.length; i += 0x8000) s += String.fromCharCode(...data.subarray(i, i + 0x8000));
    return { width: bmp.width, height: bmp.height, rgba: btoa(s) };
  },

  // bad runs one kind of bad input and returns the error it gives.
  async bad(kind) {
    try {
      switch (kind) {
        case 'corrupt-jpeg': {
          const b = new Uint8Array(await (await blobOf('/fixtures/photo-sheep-444.jpg')).arrayBuffer());
          const cut = b.slice(0, 600);
          for (let i = 300; i < cut.length; i++) cut[i] = (i * 7) & 0xff;
          return plain(await detector.classify(new Blob([cut], { type: 'image/jpeg' })));
        }
        case 'text-as-png':
          return plain(await detector.classify(new File(['hello, this is not an image\n'], 'notes.png', { type: 'image/png' })));
        case 'empty-file':
          return plain(await detector.classify(new File([], 'empty.png', { type: 'image/png' })));
        case 'zero-canvas':
          return plain(await detector.classify(Object.assign(document.createElement('canvas'), { width: 0, height: 0 })));
        case 'zero-imagedata':
          return plain(await detector.classify({ data: new Uint8ClampedArray(0), width: 0, height: 0 }));
        case 'huge-png':
          return plain(await detector.classify(await blobOf('/generated/huge.png')));
        case 'not-an-image':
          return plain(await detector.classify({ hello: 'world' }));
        case 'null':
          return plain(await detector.classify(null));
        case 'broken-img': {
          const img = new Image();
          img.src = '/fixtures/does-not-exist.png';
          return plain(await detector.classify(img));
        }
        case 'bad-policy':
          return plain(await detector.setPolicy('paranoid'));
        default:
          throw new Error(`unknown bad input ${kind}`);
      }
    } catch (err) {
      return fail(err);
    }
  },

  // many makes n bad calls in a row and reports how they failed.
  async manyBad(n) {
    const codes = {};
    const text = new File(['not an image'], 'x.png', { type: 'image/png' });
    for (let i = 0; i < n; i++) {
      try {
        await detector.classify(i % 2 ? text : Object.assign(document.createElement('canvas'), { width: 0, height: 0 }));
        codes.ok = (codes.ok ?? 0) + 1;
      } catch (err) {
        const k = err instanceof NSFWError ? err.code : 'not-an-NSFWError';
        codes[k] = (codes[k] ?? 0) + 1;
      }
    }
    return codes;
  },

  // responsive classifies the urls with classifyMany while counting
  // animation frames on the main thread.
  async responsive(urls) {
    const blobs = await Promise.all(urls.map(blobOf));
    let frames = 0;
    let maxGap = 0;
    let last = performance.now();
    let running = true;
    const tick = (now) => {
      maxGap = Math.max(maxGap, now - last);
      last = now;
      frames++;
      if (running) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    const t0 = performance.now();
    const results = await detector.classifyMany(blobs);
    const ms = performance.now() - t0;
    running = false;
    return { ms, frames, maxGap, ok: results.filter((r) => !(r instanceof Error)).length };
  },

  async setPolicy(p) {
    try {
      return await detector.setPolicy(p);
    } catch (err) {
      return fail(err);
    }
  },

  evaluate: (probs, policy) => evaluate(probs, policy),
  dispose() { detector.dispose(); },
  async afterDispose() {
    try {
      await detector.classify(await blobOf('/fixtures/odd-2x3.png'));
      return { error: false };
    } catch (err) {
      return fail(err);
    }
  },
  violations: () => violations.slice(),
  classes: () => CLASSES,
};

document.body.dataset.ready = 'true';
