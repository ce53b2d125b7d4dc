// settings-page.js: the popup and the options page (the same page). In the
// popup it also offers the current site's switch and its filtered count.
'use strict';

const $ = (sel) => document.querySelector(sel);
let current = null; // the settings shown
let siteHost = ''; // the active tab's host, in the popup

async function render() {
  current = await loadSettings();
  $('#enabled').checked = current.enabled;
  for (const name of ['preset', 'mode', 'failMode']) {
    for (const input of document.querySelectorAll(`input[name="${name}"]`)) input.checked = input.value === current[name];
  }
  const list = $('#allowlist');
  list.replaceChildren(...current.allowlist.map((host) => {
    const li = document.createElement('li');
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.textContent = 'Remove';
    remove.setAttribute('aria-label', `Remove ${host}`);
    remove.addEventListener('click', () => save({ allowlist: current.allowlist.filter((h) => h !== host) }));
    li.append(host, remove);
    return li;
  }));
  if (siteHost) {
    $('#site').checked = !isAllowlisted(siteHost, current.allowlist);
    $('#site').disabled = !current.enabled;
  }
}

function save(changes) {
  return chrome.storage.local.set(changes);
}

$('#enabled').addEventListener('change', (e) => save({ enabled: e.target.checked }));
for (const name of ['preset', 'mode', 'failMode']) {
  for (const input of document.querySelectorAll(`input[name="${name}"]`)) {
    input.addEventListener('change', () => save({ [name]: input.value }));
  }
}

$('#allow-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const host = allowlistHost($('#allow-host').value);
  if (!host) return;
  $('#allow-host').value = '';
  if (!current.allowlist.includes(host)) save({ allowlist: [...current.allowlist, host] });
});

// Turning a site off adds its host; turning it back on removes every entry
// that covers it (a parent domain too).
$('#site').addEventListener('change', (e) => {
  const allowlist = e.target.checked
    ? current.allowlist.filter((entry) => !isAllowlisted(siteHost, [entry]))
    : [...current.allowlist, siteHost];
  save({ allowlist });
});

chrome.storage.onChanged.addListener((changes, area) => {
  if (area === 'local') render();
});

async function showSite() {
  const [tab] = await chrome.tabs.query({ active: true, currentWindow: true });
  if (!tab?.url || !/^https?:/.test(tab.url)) return; // the options tab itself, or a browser page
  siteHost = new URL(tab.url).hostname;
  $('#site-host').textContent = siteHost;
  $('#site-section').hidden = false;
  const key = `badge:${tab.id}`;
  const frames = (await chrome.storage.session.get(key))[key] ?? {};
  const count = Object.values(frames).reduce((a, b) => a + b, 0);
  $('#count').textContent = `${count} image${count === 1 ? '' : 's'} filtered on this tab.`;
}

showSite().then(render);
