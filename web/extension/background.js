// background.js: the service worker. It routes the content scripts'
// requests to the engine, which lives in an offscreen document (a service
// worker cannot start the Web Workers the engine runs in), creating that
// document on demand and again if it went away, and it keeps the badge: the
// number of images filtered on each tab.
'use strict';

const OFFSCREEN_URL = 'offscreen.html';

chrome.action.setBadgeBackgroundColor({ color: '#8a1538' });

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  if (sender.id !== chrome.runtime.id || message?.target === 'offscreen') return false;
  switch (message?.type) {
    case 'classify':
    case 'classify-frame':
      toEngine(message).then(sendResponse, (err) => sendResponse({ error: { code: 'internal', message: err.message } }));
      return true;
    case 'engine-idle':
      if (sender.url === chrome.runtime.getURL(OFFSCREEN_URL)) chrome.offscreen.closeDocument().catch(() => {});
      return false;
    case 'count':
      if (sender.tab) setCount(sender.tab.id, sender.frameId ?? 0, message.count, message.fresh);
      return false;
    default:
      return false;
  }
});

// ---------------------------------------------------------------------------
// The offscreen document.

let creating = null;

async function ensureEngine() {
  const url = chrome.runtime.getURL(OFFSCREEN_URL);
  const open = await chrome.runtime.getContexts({ contextTypes: ['OFFSCREEN_DOCUMENT'], documentUrls: [url] });
  if (open.length) return;
  creating ??= chrome.offscreen.createDocument({
    url: OFFSCREEN_URL,
    reasons: ['WORKERS'],
    justification: 'Runs the on-device image classifier in Web Workers.',
  }).catch((err) => {
    // Another request created it first: that is fine.
    if (!/single offscreen/i.test(err.message)) throw err;
  }).finally(() => {
    creating = null;
  });
  await creating;
}

// toEngine forwards a request to the offscreen document. A document that
// exists may not listen yet (its modules still loading), or may have closed
// since the check: then it tries again, for a few seconds.
async function toEngine(message) {
  const started = Date.now();
  for (let wait = 20; ; wait = Math.min(2 * wait, 500)) {
    await ensureEngine();
    try {
      const reply = await chrome.runtime.sendMessage({ ...message, target: 'offscreen' });
      if (reply !== undefined) return reply;
      throw new Error('the engine did not answer');
    } catch (err) {
      if (Date.now() - started > 5000) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

// ---------------------------------------------------------------------------
// The badge. Each frame of a tab reports its own count; the badge shows the
// sum. Counts live in session storage because this worker is stopped when
// idle. A top frame's first report (fresh) starts the tab afresh.

let badgeQueue = Promise.resolve();

function setCount(tabId, frameId, count, fresh) {
  badgeQueue = badgeQueue.then(async () => {
    const key = `badge:${tabId}`;
    const frames = fresh && frameId === 0 ? {} : (await chrome.storage.session.get(key))[key] ?? {};
    frames[frameId] = count;
    await chrome.storage.session.set({ [key]: frames });
    const total = Object.values(frames).reduce((a, b) => a + b, 0);
    await chrome.action.setBadgeText({ tabId, text: total ? String(total) : '' });
  }).catch(() => {
    // the tab closed meanwhile
  });
}

chrome.tabs.onRemoved.addListener((tabId) => {
  chrome.storage.session.remove(`badge:${tabId}`);
});
