// Shared by the benchmark pages (see ../main.go): the one input every
// engine classifies, and what the pages report besides timings.

// CSP violations, collected from the start so that a page run under the
// product's strict policy can report what the policy blocked.
export const violations = [];
document.addEventListener('securitypolicyviolation', (e) => violations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`));

/** The fixture photo, drawn scaled to a 224x224 canvas: the same pixels on every page. */
export async function inputCanvas() {
  const img = new Image();
  img.src = new URL('../fixtures/photo-chelsea.png', import.meta.url).href;
  await img.decode();
  const canvas = Object.assign(document.createElement('canvas'), { width: 224, height: 224 });
  canvas.getContext('2d').drawImage(img, 0, 0, 224, 224);
  return canvas;
}

/** A copy of canvas (classifyMany wants distinct sources). */
export function copyCanvas(src) {
  const c = Object.assign(document.createElement('canvas'), { width: src.width, height: src.height });
  c.getContext('2d').drawImage(src, 0, 0);
  return c;
}

/** FNV-1a of the canvas's RGBA pixels, so the harness can check that every page saw the same input. */
export function pixelHash(canvas) {
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let h = 0x811c9dc5;
  for (let i = 0; i < data.length; i++) {
    h ^= data[i];
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/**
 * When the page had downloaded everything it asked for on this thread
 * (Resource Timing; workers' own requests are not included), in ms since
 * navigation start.
 */
export function downloadsDone() {
  let end = 0;
  for (const e of performance.getEntriesByType('resource')) {
    if (!e.name.includes('/fixtures/')) end = Math.max(end, e.responseEnd);
  }
  return end;
}

/** Times n sequential runs of f, in ms each. */
export async function timeRuns(n, f) {
  const ms = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await f();
    ms.push(performance.now() - t);
  }
  return ms;
}

/** Publishes the page's API as window.bench, with the cold-start promise's outcome. */
export function publish(api, cold) {
  window.bench = Object.assign(api, { cold: null, error: null });
  cold.then(
    (v) => { window.bench.cold = { ...v, violations: [...violations], visibility: document.visibilityState }; },
    (err) => { window.bench.error = `${err?.name ?? 'Error'}: ${err?.message ?? err}\n${err?.stack ?? ''}`; },
  );
}
