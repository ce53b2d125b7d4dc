// The demo page: drop, pick or paste images; each is classified in a Web
// Worker by the WebAssembly engine, and shown with its probabilities. NSFW
// thumbnails stay blurred until clicked. Nothing leaves the page.
import { createDetector, evaluate, CLASSES } from '../nsfw.js';

const $ = (sel) => document.querySelector(sel);
const status = $('#status');
const results = $('#results');
const policySelect = $('#policy');
const cards = [];
const skipped = []; // names of files that were not images, since the last Clear
let detector;

function say(text, isError = false) {
  status.textContent = text;
  status.classList.toggle('error', isError);
}

async function start() {
  const t0 = performance.now();
  try {
    detector = await createDetector({ workers: Math.min(2, navigator.hardwareConcurrency || 1), policy: policySelect.value });
  } catch (err) {
    say(`Could not load the model: ${err.message}`, true);
    return;
  }
  const i = detector.info;
  const kernels = i.kernels === 'wasm-simd128' ? 'SIMD128 kernels' : 'pure-Go kernels (no SIMD in this browser)';
  say(`Ready in ${Math.round(performance.now() - t0)} ms: ${i.name}, ${kernels}, ${i.workers} worker${i.workers > 1 ? 's' : ''}.`);
  $('#model').textContent = `Weights: ${i.name}, ${i.license} license, ${i.copyright.replace(/\.$/, '')}.`;
  policySelect.disabled = false;
  document.body.dataset.ready = 'true';
}

const isImage = (f) => f.type.startsWith('image/') || f.type === '' || /\.(jpe?g|png|gif|webp|bmp|avif|heic)$/i.test(f.name);

function addFiles(files) {
  files = [...files];
  skipped.push(...files.filter((f) => !isImage(f)).map((f) => f.name || 'pasted item'));
  const images = files.filter(isImage);
  if (!images.length) {
    if (files.length) report();
    return;
  }
  $('#clear').disabled = false;
  $('#drop').classList.add('has-results');
  for (const file of images) classifyFile(file);
}

// report says what happened to every file given since the last Clear.
function report() {
  const done = cards.filter((c) => c.result).length;
  const failed = cards.filter((c) => c.li.dataset.verdict === 'error').length;
  const flagged = cards.filter((c) => c.li.dataset.verdict === 'nsfw').length;
  const parts = [];
  if (cards.length) {
    parts.push(`${done} image${done === 1 ? '' : 's'} classified on this device, ${flagged} flagged NSFW`);
  }
  if (failed) parts.push(`${failed} could not be read`);
  if (skipped.length) {
    const names = skipped.length > 3 ? `${skipped.slice(0, 3).join(', ')} and ${skipped.length - 3} more` : skipped.join(', ');
    parts.push(`skipped ${names}: not an image`);
  }
  say(`${parts.join('; ')}.`, failed > 0 && done === 0);
}

function newCard(name) {
  const li = $('#card').content.firstElementChild.cloneNode(true);
  li.querySelector('.name').textContent = name;
  li.querySelector('.name').title = name;
  const bars = li.querySelector('.bars');
  for (const c of CLASSES) {
    const row = document.createElement('li');
    row.dataset.class = c;
    row.innerHTML = '<span class="label"></span><span class="track"><span class="fill"></span></span><span class="pct"></span>';
    row.querySelector('.label').textContent = c;
    bars.append(row);
  }
  const thumb = li.querySelector('.thumb');
  thumb.addEventListener('click', () => {
    if (!li.classList.contains('nsfw')) return;
    li.classList.toggle('hidden');
    thumb.setAttribute('aria-label', li.classList.contains('hidden') ? 'Reveal image' : 'Hide image');
  });
  results.append(li);
  return li;
}

async function drawThumb(canvas, file) {
  try {
    const bmp = await createImageBitmap(file, { resizeWidth: 256, resizeQuality: 'medium' });
    canvas.width = bmp.width;
    canvas.height = bmp.height;
    canvas.getContext('2d').drawImage(bmp, 0, 0);
    bmp.close();
  } catch {
    // The classifier reports the decode error.
  }
}

async function classifyFile(file) {
  const li = newCard(file.name || 'pasted image');
  const card = { li, result: null };
  cards.push(card);
  drawThumb(li.querySelector('canvas'), file);
  if (!detector) {
    await new Promise((resolve) => { const t = setInterval(() => detector && (clearInterval(t), resolve()), 50); });
  }
  try {
    card.result = await detector.classify(file);
    render(card);
  } catch (err) {
    li.classList.remove('pending');
    li.classList.add('error');
    li.dataset.verdict = 'error';
    li.dataset.error = err.code ?? 'internal';
    li.querySelector('.badge').textContent = 'error';
    li.querySelector('.top').textContent = 'could not be classified';
    li.querySelector('.timing').textContent = err.message;
  }
  report();
}

function render(card) {
  const { li, result } = card;
  const nsfw = evaluate(result.probabilities, detector.policy);
  li.classList.remove('pending');
  li.classList.toggle('nsfw', nsfw);
  li.classList.toggle('safe', !nsfw);
  // NSFW images are hidden until clicked, including after a policy change.
  li.classList.toggle('hidden', nsfw);
  li.dataset.verdict = nsfw ? 'nsfw' : 'safe';
  li.dataset.top = result.top;
  li.dataset.probabilities = JSON.stringify(result.probabilities);
  li.querySelector('.badge').textContent = nsfw ? 'NSFW' : 'safe';
  li.querySelector('.top').textContent = `${result.top} ${(result.sorted[0].probability * 100).toFixed(1)}%`;
  for (const row of li.querySelectorAll('.bars li')) {
    const p = result.probabilities[row.dataset.class];
    row.querySelector('.fill').style.width = `${(p * 100).toFixed(1)}%`;
    row.querySelector('.pct').textContent = `${(p * 100).toFixed(1)}%`;
    row.classList.toggle('hot', ['Porn', 'Hentai', 'Sexy'].includes(row.dataset.class) && p >= 0.3);
  }
  const frames = result.frameCount > 1 ? ` · frame ${result.frame + 1} of ${result.frameCount} (${result.frames} sampled)` : '';
  li.querySelector('.timing').textContent = `${result.width}×${result.height} · ${result.ms.toFixed(0)} ms (model ${result.engineMs.toFixed(0)} ms)${frames}`;
}

policySelect.addEventListener('change', async () => {
  await detector.setPolicy(policySelect.value);
  for (const card of cards) if (card.result) render(card);
});

$('#files').addEventListener('change', (e) => { addFiles(e.target.files); e.target.value = ''; });
$('#clear').addEventListener('click', () => {
  results.replaceChildren();
  cards.length = 0;
  skipped.length = 0;
  $('#clear').disabled = true;
  $('#drop').classList.remove('has-results');
  say('Cleared.');
});

const drop = $('#drop');
for (const type of ['dragenter', 'dragover']) {
  document.addEventListener(type, (e) => { e.preventDefault(); drop.classList.add('over'); });
}
for (const type of ['dragleave', 'drop']) {
  document.addEventListener(type, (e) => { e.preventDefault(); if (type === 'drop' || e.target === document.documentElement) drop.classList.remove('over'); });
}
document.addEventListener('drop', (e) => addFiles(e.dataTransfer?.files ?? []));
document.addEventListener('paste', (e) => addFiles(e.clipboardData?.files ?? []));

start();
