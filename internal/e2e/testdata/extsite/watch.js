// watch.js: the test's eyes inside the page. On every animation frame,
// just before the browser paints it, it checks that no element expected to
// be NSFW is shown uncovered (computed filter "none") unless the user
// revealed it. A MutationObserver notes when each element first got a
// final state (milliseconds since navigation). A frame reports both to its
// parent page, where the test reads them as watch.frames.
'use strict';

window.watch = { flashes: [], settled: {}, frameCount: 0, frames: {} };

function watchFrame() {
  watch.frameCount++;
  for (const el of document.querySelectorAll('[data-expect="nsfw"]')) {
    if (el.getAttribute('data-nsfw-state') !== 'revealed' && getComputedStyle(el).filter === 'none') {
      watch.flashes.push({ id: el.id, state: el.getAttribute('data-nsfw-state'), t: Math.round(performance.now()) });
    }
  }
  requestAnimationFrame(watchFrame);
}
requestAnimationFrame(watchFrame);

new MutationObserver((mutations) => {
  const now = Math.round(performance.now());
  for (const { target: el } of mutations) {
    const state = el.getAttribute('data-nsfw-state');
    if (el.dataset.expect && state && state !== 'pending' && !(el.id in watch.settled)) watch.settled[el.id] = now;
  }
}).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-nsfw-state'] });

if (window !== window.top) {
  setInterval(() => {
    const elements = [...document.querySelectorAll('[data-expect]')].map((el) => ({
      id: el.id, expect: el.dataset.expect, state: el.getAttribute('data-nsfw-state') ?? '', filter: getComputedStyle(el).filter,
    }));
    parent.postMessage({ watch: { url: location.href, flashes: watch.flashes, frameCount: watch.frameCount, elements } }, '*');
  }, 100);
} else {
  addEventListener('message', (e) => {
    if (e.data?.watch) watch.frames[e.data.watch.url] = e.data.watch;
  });
}
