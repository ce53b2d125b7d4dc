// The upload example: the form's file input is guarded by prefilter.js,
// with the engine (nsfw.js) set to the policy the server announces at
// /upload/config, so that the two checks agree. The server checks again.
import { createDetector } from '../../nsfw.js';
import { guardFileInput, describe } from '../prefilter.js';

const $ = (sel) => document.querySelector(sel);
const form = $('#upload');
const input = $('#photos');
const server = $('#server');

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function policyText(p) {
  const rules = Object.entries(p).filter(([, v]) => v > 0).map(([k, v]) => `${k} ≥ ${v.toFixed(2)}`);
  return rules.join(', ');
}

// showAnswer renders the server's JSON answer: what it received, or why it
// refused, each file with the same sentences the browser check uses.
function showAnswer(status, body, retryAfter) {
  server.dataset.status = String(status);
  const items = [];
  let summary;
  if (status === 200) {
    summary = body.message;
    for (const f of body.files) {
      const li = el('li', 'accepted');
      li.append(el('span', 'name', f.filename), el('span', 'message', `received: ${f.size} bytes, sha256 ${f.sha256.slice(0, 12)}…, ${f.top} (NSFW score ${f.nsfw_score.toFixed(3)})`));
      items.push(li);
    }
  } else if (status === 422) {
    summary = `The server refused the upload: ${body.message}.`;
    for (const f of body.files) {
      const li = el('li', f.accepted ? 'accepted' : 'rejected');
      li.dataset.reason = f.reason ?? '';
      li.append(el('span', 'name', f.filename), el('span', 'message', f.accepted ? 'passed the server’s check' : describe(f)));
      items.push(li);
    }
  } else {
    summary = `The server answered ${status}: ${body.message ?? 'no details'}${retryAfter ? ` (retry in ${retryAfter} s)` : ''}.`;
  }
  const p = el('p', `summary${status === 200 ? '' : ' bad'}`, summary);
  const ul = el('ul');
  ul.append(...items);
  server.replaceChildren(p, ul);
}

async function send(data) {
  server.replaceChildren(el('p', 'empty', 'Sending…'));
  delete server.dataset.status;
  try {
    const res = await fetch(form.action, { method: 'POST', body: data });
    const body = await res.json().catch(() => ({ message: 'the answer was not JSON' }));
    showAnswer(res.status, body, res.headers.get('Retry-After'));
  } catch (err) {
    server.dataset.status = 'network';
    server.replaceChildren(el('p', 'summary bad', `Could not reach the server: ${err.message}`));
  }
}

async function start() {
  let config;
  try {
    config = await (await fetch('/upload/config')).json();
  } catch (err) {
    $('#policy').textContent = `unknown: ${err.message}`;
    return;
  }
  $('#policy').textContent = `${config.policy}: ${policyText(config.thresholds)}`;
  // Every frame of an animation, as the server checks them (frames: 'all').
  const detector = createDetector({
    policy: config.policy, maxPixels: config.maxPixels, maxFrames: config.maxFrames, frames: 'all',
    workers: Math.min(2, navigator.hardwareConcurrency || 1),
  });
  guardFileInput(input, {
    detector, status: $('#status'), list: $('#files'), dropZone: $('#drop'),
    maxFileBytes: config.maxFileBytes, maxFiles: config.maxFiles, maxBodyBytes: config.maxBodyBytes, formats: config.formats,
    fields: config.fields,
  });

  // The guard has vetted the files by the time this (later) listener runs.
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    send(new FormData(form));
  });
  // A client that skips the check: the raw files, straight to the server.
  $('#bypass').addEventListener('click', () => {
    const data = new FormData();
    data.set('caption', $('#caption').value);
    for (const f of input.files) data.append('photos', f, f.name);
    send(data);
  });

  try {
    const d = await detector;
    const same = ['porn', 'hentai', 'sexy', 'sum'].every((k) => Math.abs(d.policy[k] - config.thresholds[k]) < 1e-6) && d.info.name === config.model;
    $('#engine').textContent = `Engine: ${d.info.name} (${d.info.kernels}) in this browser and ${config.model} on the server; ` +
      (same ? 'same model and policy on both sides.' : 'WARNING: the browser and the server disagree on the model or the policy.');
    document.body.dataset.agree = String(same);
  } catch (err) {
    $('#engine').textContent = `The engine could not start in this browser (${err.message}); uploads cannot be checked here.`;
  }
  document.body.dataset.ready = 'true';
}

start();
