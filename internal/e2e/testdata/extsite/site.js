// site.js: what a live page does after loading: images inserted by script,
// a src changed later, an image from a blob: URL, and an infinite feed that
// grows as it is scrolled to.
'use strict';

const images = document.body.dataset.images;
const scripted = document.querySelector('#scripted');

function addImage(parent, id, expect, src, size = 224) {
  const img = document.createElement('img');
  Object.assign(img, { id, width: size, height: size, alt: '' });
  img.dataset.expect = expect;
  img.src = src;
  parent.append(img);
  return img;
}

addEventListener('load', () => {
  setTimeout(async () => {
    addImage(scripted, 'late-nsfw', 'nsfw', `${images}/fixtures/ascent-default-hentai.png?late`);
    addImage(scripted, 'late-safe', 'safe', `${images}/fixtures/photo-ocean-waves.png?late`, 200);
    // New sources: one to download, and two the page has shown already (in
    // the browser's memory cache, so they can be painted at once).
    const swaps = {
      swap: ['src', '/fixtures/ascent-default-porn.png?swap'],
      'swap-cached': ['src', '/fixtures/ascent-default-porn.png'],
      'swap-srcset': ['srcset', `${images}/fixtures/ascent-default-hentai.png`],
    };
    for (const [id, [attribute, url]] of Object.entries(swaps)) {
      const img = document.getElementById(id);
      img.dataset.expect = 'nsfw';
      img.setAttribute(attribute, url);
    }
    const blob = await (await fetch('/fixtures/ascent-default-hentai.png?blob')).blob();
    addImage(scripted, 'blob-nsfw', 'nsfw', URL.createObjectURL(blob));
    document.body.dataset.ready = 'true';
  }, 300);
});

// The feed: each time its end comes into view, two more images (up to
// three batches); the last batch uses a lazy loader's data-src.
let batches = 0;
const feed = document.querySelector('#feed');
const feedEnd = document.querySelector('#feed-end');
const feedObserver = new IntersectionObserver((entries) => {
  if (!entries.some((e) => e.isIntersecting) || batches >= 3) return;
  batches++;
  const n = batches;
  if (n < 3) {
    addImage(feed, `feed-nsfw-${n}`, 'nsfw', `${images}/fixtures/ascent-default-porn.png?feed=${n}`);
    addImage(feed, `feed-safe-${n}`, 'safe', `/fixtures/photo-rocket.png?feed=${n}`, 200);
  } else {
    const img = addImage(feed, 'feed-lazyjs', 'skipped', 'data:image/gif;base64,R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw==');
    img.dataset.src = `${images}/fixtures/ascent-default-sexy.png?feed=${n}`;
    setTimeout(() => {
      img.dataset.expect = 'nsfw';
      img.src = img.dataset.src;
    }, 200);
  }
  document.body.dataset.feed = String(batches);
  // Observe afresh, so that an end still in view asks for the next batch.
  feedObserver.unobserve(feedEnd);
  setTimeout(() => feedObserver.observe(feedEnd), 300);
});
feedObserver.observe(feedEnd);
