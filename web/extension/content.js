// content.js: judges every image of the page, and of each of its frames.
//
// content.css already covers every image before the first paint. This
// script finds each element that can show an image (<img> with its srcset
// or <picture> choice, <input type=image>, <video> poster and frames, inline
// background-image), asks the extension's engine for a verdict on the URL
// the element actually shows, and marks the element with data-nsfw-state:
// pending, safe, nsfw, error, skipped (icons, broken images) or revealed
// (clicked). A MutationObserver catches elements added later (infinite
// scroll, scripts) and changed sources (src, srcset, style, poster).
// Videos are judged by content-video.js.
'use strict';

(() => {
  const STATE = 'data-nsfw-state';
  const SELECTOR = 'img, video, input[type="image"], [style*="url("]';
  const WATCHED = ['src', 'srcset', 'sizes', 'media', 'style', 'poster'];
  const SHOWN = new Set(['safe', 'revealed', 'skipped']);
  const ICON_SIDE = 48; // images smaller than this on both sides are icons: not judged
  const TIMEOUT_MS = 30_000; // then the image counts as an error (fail-open/closed)
  const MAX_IN_FLIGHT = 8; // requests per frame; the rest wait, first come first served
  const MAX_PAGE_BYTES = 32 << 20; // bytes the page may hand over itself (blob: URLs)

  const root = document.documentElement;
  const topHost = topLevelHost();
  const isTop = window === window.top;

  let settings = null;
  let active = false; // filtering this page
  let observer = null;
  let serial = 0;
  const jobs = new WeakMap(); // element -> {key, serial} of its latest verdict request
  const broken = new WeakMap(); // <img> -> the URL it failed to load
  const revealedKeys = new Set(); // what the user chose to see, kept across re-renders
  const considerVideo = createVideoJudge({
    isActive: () => active,
    setState,
    isRevealed: (key) => revealedKeys.has(key),
    classifyURL,
    request,
    toBase64,
    reconsider: (el) => consider(el, true),
  });

  // The allowlist is about the site in the address bar, also inside frames.
  function topLevelHost() {
    const origins = location.ancestorOrigins;
    const top = origins && origins.length ? origins[origins.length - 1] : location.href;
    try {
      return new URL(top).hostname;
    } catch {
      return location.hostname;
    }
  }

  function applySettings(s) {
    settings = s;
    active = filtersHost(s, topHost);
    root.setAttribute('data-nsfw-filter', active ? 'on' : 'off');
    root.setAttribute('data-nsfw-mode', s.mode);
    root.setAttribute('data-nsfw-fail', s.failMode);
  }

  loadSettings().then((s) => {
    applySettings(s);
    if (isTop) send({ type: 'count', count: 0, fresh: true }).catch(() => {});
    if (active) start();
  });

  chrome.storage.onChanged.addListener((changes, area) => {
    if (area !== 'local' || !settings) return;
    const before = { active, preset: settings.preset };
    loadSettings().then((s) => {
      applySettings(s);
      if (active && (!before.active || before.preset !== s.preset)) start();
      scheduleCount();
    });
  });

  function start() {
    if (!observer) {
      observer = new MutationObserver(onMutations);
      observer.observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: WATCHED });
    }
    for (const el of document.querySelectorAll(SELECTOR)) consider(el, true);
  }

  function onMutations(mutations) {
    if (!active) return;
    for (const m of mutations) {
      if (m.type === 'childList') {
        for (const n of m.addedNodes) {
          if (n.nodeType !== Node.ELEMENT_NODE) continue;
          if (n.matches(SELECTOR)) consider(n);
          else if (n.localName === 'source') considerSourceOf(n);
          for (const el of n.querySelectorAll(SELECTOR)) consider(el);
        }
      } else if (m.target.localName === 'source') {
        considerSourceOf(m.target);
      } else if (m.target.localName === 'img') {
        if (m.attributeName !== 'style') sourceChanged(m.target);
      } else if (m.target.matches(SELECTOR) || jobs.has(m.target)) {
        consider(m.target);
      }
    }
  }

  // A <source> picks what its <picture>'s <img> or its <video> shows.
  function considerSourceOf(source) {
    const parent = source.parentElement;
    if (parent?.localName === 'picture') {
      const img = parent.querySelector('img');
      if (img) sourceChanged(img);
    } else if (parent?.localName === 'video') {
      consider(parent);
    }
  }

  // sourceChanged covers an <img> whose src, srcset or <picture> changed,
  // at once: the browser may not yet say what it will show (currentSrc,
  // complete), and a cached image could be painted before its load event.
  // Once the browser has updated the image, it is judged as usual.
  function sourceChanged(img) {
    const early = earlyURL(img);
    if (early && jobs.get(img)?.key === early) return; // the same URL set again
    jobs.delete(img);
    setState(img, 'pending');
    setTimeout(() => consider(img), 0);
  }

  // The load and error events of images do not bubble: listen in the
  // capture phase, from before the page's first image.
  document.addEventListener('load', (e) => {
    if (active && e.target.localName === 'img') consider(e.target);
  }, true);
  document.addEventListener('error', (e) => {
    const img = e.target;
    if (img.localName !== 'img') return;
    broken.set(img, img.currentSrc || img.src);
    if (active) consider(img);
  }, true);

  function consider(el, force = false) {
    if (!active) return;
    if (el.localName === 'img') considerImage(el, force);
    else if (el.localName === 'video') jobs.set(el, { key: considerVideo(el, force), serial: 0 });
    else if (el.localName === 'input') considerURLs(el, el.src ? [el.src] : [], force);
    else considerURLs(el, backgroundURLs(el), force);
  }

  function considerImage(img, force) {
    if (!img.complete) {
      const early = earlyURL(img);
      if (early) {
        // The URL is certain: judge it while the page downloads it too.
        if (force || jobs.get(img)?.key !== early) judge(img, early, [early]);
      } else if (img.hasAttribute(STATE) && img.getAttribute(STATE) !== 'pending') {
        // A new src or srcset is loading: it must not appear unjudged. The
        // load event brings us back.
        jobs.delete(img);
        setState(img, 'pending');
      }
      return;
    }
    const url = img.currentSrc || img.src;
    if (!url) return; // nothing to show yet (a lazy loader's placeholder)
    if (broken.get(img) === url && img.naturalWidth === 0) {
      if (jobs.get(img)?.key === url && img.getAttribute(STATE) === 'skipped') return;
      jobs.set(img, { key: url, serial: ++serial });
      setState(img, 'skipped'); // the browser shows its broken-image icon
      return;
    }
    if (!force && jobs.get(img)?.key === url) return;
    if (img.naturalWidth && img.naturalWidth < ICON_SIDE && img.naturalHeight < ICON_SIDE) {
      jobs.set(img, { key: url, serial: ++serial });
      setState(img, 'skipped');
      return;
    }
    judge(img, url, [url]);
  }

  // earlyURL is the URL an image that is still loading will show, when only
  // one is possible: a plain src, no srcset or <picture> choice, and not
  // lazy (a lazy image is fetched only if it nears the viewport).
  function earlyURL(img) {
    if (img.loading === 'lazy' || img.hasAttribute('srcset') || img.parentElement?.localName === 'picture') return '';
    return img.getAttribute('src') ? img.src : '';
  }

  function considerURLs(el, urls, force) {
    const key = urls.join(' ');
    if (!force && jobs.get(el)?.key === key) return;
    if (!urls.length) {
      jobs.set(el, { key, serial: ++serial });
      setState(el, 'skipped'); // url() in a property that shows no image
      return;
    }
    judge(el, key, urls);
  }

  // The image URLs of an inline background (several layers, image-set()).
  function backgroundURLs(el) {
    const value = el.style.backgroundImage || '';
    const urls = [];
    for (const m of value.matchAll(/url\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^)\s]*))\s*\)/g)) {
      const raw = (m[1] ?? m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1');
      try {
        if (raw) urls.push(new URL(raw, document.baseURI).href);
      } catch {
        // not a URL: nothing the browser can show either
      }
    }
    return [...new Set(urls)];
  }

  // judge asks for the verdicts on every URL an element shows: NSFW if one
  // is, an error if one failed and none is NSFW.
  async function judge(el, key, urls) {
    const job = { key, serial: ++serial };
    jobs.set(el, job);
    setState(el, 'pending');
    const results = await Promise.allSettled(urls.map((url) => classifyURL(url)));
    if (jobs.get(el) !== job || !active) return; // superseded meanwhile
    const verdicts = results.map((r) => (r.status === 'fulfilled' ? r.value.verdict : 'error'));
    let state = 'safe';
    if (verdicts.includes('nsfw')) state = 'nsfw';
    else if (verdicts.includes('error')) state = 'error';
    else if (verdicts.every((v) => v === 'skipped')) state = 'skipped';
    const failure = results.find((r) => r.status === 'rejected');
    if (failure) el.setAttribute('data-nsfw-error', failure.reason?.message ?? String(failure.reason));
    else el.removeAttribute('data-nsfw-error');
    if ((state === 'nsfw' || state === 'error') && revealedKeys.has(key)) state = 'revealed';
    setState(el, state);
  }

  // classifyURL gets a verdict for an image URL. The engine fetches it under
  // the extension's own host permissions (no page CORS involved); blob:
  // URLs, and same-origin URLs the engine could not fetch (a server that
  // checks the Referer, say), are read here and their bytes handed over.
  async function classifyURL(url) {
    const scheme = url.slice(0, url.indexOf(':'));
    if (scheme === 'blob') return classifyBytes(url);
    if (!['http', 'https', 'data', 'file'].includes(scheme)) throw new Error(`cannot read ${scheme}: URLs`);
    try {
      return await request({ type: 'classify', url });
    } catch (err) {
      if (err.code === 'fetch' && new URL(url).origin === location.origin) return classifyBytes(url);
      throw err;
    }
  }

  async function classifyBytes(url) {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`HTTP ${res.status} for ${url}`);
    const blob = await res.blob();
    if (blob.size > MAX_PAGE_BYTES) throw new Error(`${url} is ${blob.size} bytes, over the ${MAX_PAGE_BYTES}-byte limit`);
    const bytes = toBase64(new Uint8Array(await blob.arrayBuffer()));
    return request({ type: 'classify', bytes, mime: blob.type });
  }

  // ------------------------------------------------------------------------
  // Reveal on click, before the page's own handlers (a link, a lightbox)
  // see the click.

  addEventListener('click', (e) => {
    if (!active) return;
    for (let n = e.target; n && n.nodeType === Node.ELEMENT_NODE; n = n.parentElement) {
      if (!isCovered(n)) continue;
      e.preventDefault();
      e.stopImmediatePropagation();
      const job = jobs.get(n);
      if (job) revealedKeys.add(job.key);
      setState(n, 'revealed');
      return;
    }
  }, true);

  function isCovered(el) {
    if (!el.matches(SELECTOR)) return false;
    const state = el.getAttribute(STATE);
    if (SHOWN.has(state)) return false;
    return !(state === 'error' && settings.failMode === 'open');
  }

  // ------------------------------------------------------------------------
  // State, the badge count, messaging.

  function setState(el, state) {
    if (el.getAttribute(STATE) === state) return;
    el.setAttribute(STATE, state);
    scheduleCount();
  }

  let countTimer = 0;
  let lastCount = -1;
  function scheduleCount() {
    if (countTimer) return;
    countTimer = setTimeout(() => {
      countTimer = 0;
      let count = 0;
      if (active) {
        count = document.querySelectorAll(`[${STATE}="nsfw"]`).length;
        if (settings.failMode === 'closed') count += document.querySelectorAll(`[${STATE}="error"]`).length;
      }
      if (count === lastCount) return;
      lastCount = count;
      send({ type: 'count', count }).catch(() => {});
    }, 200);
  }

  function send(message) {
    return chrome.runtime.sendMessage(message);
  }

  // request asks the engine for a verdict under the current preset, and
  // waits at most TIMEOUT_MS. Only MAX_IN_FLIGHT are sent at a time, so
  // that on a page of thousands of images the timeout does not count the
  // wait behind the others, and the images at the top (first in the
  // document) come first.
  let inFlight = 0;
  const waiting = [];
  async function request(message) {
    if (inFlight >= MAX_IN_FLIGHT) await new Promise((resolve) => waiting.push(resolve));
    inFlight++;
    try {
      return await requestNow(message);
    } finally {
      inFlight--;
      waiting.shift()?.();
    }
  }

  function requestNow(message) {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error(`no verdict within ${TIMEOUT_MS / 1000} s`), { code: 'timeout' })), TIMEOUT_MS);
    });
    const reply = send({ ...message, preset: settings.preset }).then((r) => {
      if (!r) throw Object.assign(new Error('the extension did not answer'), { code: 'internal' });
      if (r.error) throw Object.assign(new Error(r.error.message), { code: r.error.code });
      return r;
    });
    return Promise.race([reply, timeout]).finally(() => clearTimeout(timer));
  }

  function toBase64(bytes) {
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(s);
  }
})();
