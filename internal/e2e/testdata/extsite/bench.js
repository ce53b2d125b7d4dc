// bench.js: writes ?n= images (default 100) while the page is parsed: safe
// photos and drawings with one NSFW-scored image in ten, every URL distinct.
'use strict';

const params = new URLSearchParams(location.search);
const count = Number(params.get('n') ?? 100);
const run = params.get('run') ?? '0';
const images = document.body.dataset.images;
const safe = ['photo-chelsea.png', 'photo-sheep.png', 'photo-cliff.png', 'photo-rocket.png', 'drawing-frog.png',
  'drawing-jeep.png', 'photo-astronaut.png', 'photo-hubble.png', 'drawing-chicken.png'];
const nsfw = ['ascent-default-porn.png', 'ascent-default-hentai.png', 'ascent-default-sexy.png'];
const grid = document.querySelector('#grid');
for (let i = 0; i < count; i++) {
  const isNSFW = i % 10 === 9;
  const name = isNSFW ? nsfw[(i / 10 | 0) % nsfw.length] : safe[i % safe.length];
  const img = document.createElement('img');
  Object.assign(img, { id: `b${i}`, width: 160, height: 160, alt: '' });
  img.dataset.expect = isNSFW ? 'nsfw' : 'safe';
  img.src = `${i % 2 ? images : ''}/fixtures/${name}?run=${run}&i=${i}`;
  grid.append(img);
}
document.body.dataset.ready = 'true';
