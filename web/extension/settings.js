// settings.js: the extension's settings, their defaults and the allowlist
// rule. A classic script, so that the content script, the service worker
// (importScripts) and the settings page can all load it.
'use strict';

const NSFW_DEFAULTS = Object.freeze({
  enabled: true, // the on/off toggle
  preset: 'balanced', // the engine's policy preset: strict | balanced | lenient
  mode: 'blur', // how NSFW images are covered: blur | hide
  failMode: 'closed', // on error or timeout: closed (stay covered) | open (shown)
  allowlist: [], // host names where nothing is filtered (their subdomains too)
});

const NSFW_PRESETS = Object.freeze(['strict', 'balanced', 'lenient']);

/** Reads the settings, defaults filled in. */
async function loadSettings() {
  const stored = await chrome.storage.local.get(Object.keys(NSFW_DEFAULTS));
  const s = { ...NSFW_DEFAULTS, ...stored };
  if (!NSFW_PRESETS.includes(s.preset)) s.preset = NSFW_DEFAULTS.preset;
  return s;
}

/** The host name an allowlist entry stands for ("https://www.x.org/a" gives "www.x.org"). */
function allowlistHost(entry) {
  const text = String(entry).trim().toLowerCase();
  if (!text) return '';
  try {
    return new URL(text.includes('://') ? text : `http://${text}`).hostname;
  } catch {
    return '';
  }
}

/** Whether host is on the allowlist: an entry covers itself and its subdomains. */
function isAllowlisted(host, allowlist) {
  const h = String(host).toLowerCase();
  return allowlist.some((entry) => h === entry || h.endsWith(`.${entry}`));
}

/** Whether pages of host are filtered under settings s. */
function filtersHost(s, host) {
  return s.enabled && !isAllowlisted(host, s.allowlist);
}
