// record.js: record(name) returns a 1.5 s, 10 fps, 448x448 VP8 WebM of a
// fixture, base64. At 448 px (each pixel doubled) and a high bitrate VP8
// keeps the class-maximising noise: the porn fixture still scores > 0.99.
'use strict';

window.record = async (name) => {
  const img = new Image();
  img.src = `/fixtures/${name}`;
  await img.decode();
  const canvas = Object.assign(document.createElement('canvas'), { width: 448, height: 448 });
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingEnabled = false;
  const draw = () => ctx.drawImage(img, 0, 0, 448, 448);
  draw();
  const recorder = new MediaRecorder(canvas.captureStream(10), { mimeType: 'video/webm;codecs=vp8', videoBitsPerSecond: 20e6 });
  const chunks = [];
  recorder.ondataavailable = (e) => chunks.push(e.data);
  recorder.start();
  const started = performance.now();
  while (performance.now() - started < 1500) {
    draw(); // captureStream sends a frame only when the canvas changes
    await new Promise((r) => setTimeout(r, 50));
  }
  recorder.stop();
  await new Promise((r) => { recorder.onstop = r; });
  const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
};
