#!/usr/bin/env node
// Regenerates testdata/reference.json: what nsfwjs@4.4.0 on TF.js (cpu backend) says about every
// fixture, next to hashes of the model inputs, so the Go engine can be checked against it.
//
//   go run ./build/dump -out DIR testdata/fixtures/*       # Go decode + preprocessing dump
//   node build/reference/reference.mjs --dump DIR --out testdata/reference.json [--models default,mid]
//
// DIR/index.json (written by the Go tool) is an array of
//   {name, file, format: png|jpeg|gif|bmp|webp, width, height, rgb: "<name>.rgb", input: "<name>.in.f32"}
// where .rgb is the Go-decoded first frame (h*w*3 uint8, alpha dropped, non-premultiplied) and
// .in.f32 the 224x224x3 float32 little-endian model input computed by the Go preprocessing.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import jpeg from 'jpeg-js';
import {
  tf, CLASSES, MODELS, SIZE, initTf, loadModel, parseModelsArg, parseArgs, versions,
  decodePngRgb, rgbTensor, classifyCapturingInput, readF32LE, f32ToBytesLE, readFile,
} from './lib.mjs';

const USAGE = 'usage: node build/reference/reference.mjs --dump DIR --out testdata/reference.json [--models default,mid]';
const FORMATS = ['png', 'jpeg', 'gif', 'bmp', 'webp'];
const INPUT_LEN = SIZE * SIZE * 3;

const sha256 = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex');

function maxAbsDiff(a, b) {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d > m || Number.isNaN(d)) m = d;
  }
  return m;
}

function equalBytes(a, b) {
  return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

async function predictClassOrder(nsfw, input) {
  const x = tf.tensor4d(input, [1, SIZE, SIZE, 3], 'float32');
  const y = nsfw.model.predict(x);
  const p = Array.from(await y.data());
  x.dispose();
  y.dispose();
  if (p.length !== CLASSES.length) throw new Error(`model returned ${p.length} values`);
  return p;
}

async function classifyRgb(nsfw, { width, height, rgb }) {
  const t = rgbTensor(width, height, rgb);
  try {
    return await classifyCapturingInput(nsfw, t);
  } finally {
    t.dispose();
  }
}

function loadEntry(dumpDir, e) {
  for (const k of ['name', 'file', 'format', 'width', 'height', 'rgb', 'input']) {
    if (e[k] === undefined) throw new Error(`index.json entry ${JSON.stringify(e.name)} lacks ${k}`);
  }
  if (!FORMATS.includes(e.format)) throw new Error(`${e.name}: unknown format ${e.format}`);
  const goRgb = new Uint8Array(fs.readFileSync(path.join(dumpDir, e.rgb)));
  if (goRgb.length !== e.width * e.height * 3) {
    throw new Error(`${e.name}: ${e.rgb} has ${goRgb.length} bytes, want ${e.width}*${e.height}*3`);
  }
  const inputBytes = fs.readFileSync(path.join(dumpDir, e.input));
  if (inputBytes.length !== INPUT_LEN * 4) throw new Error(`${e.name}: ${e.input} has ${inputBytes.length} bytes, want ${INPUT_LEN * 4}`);
  return { goRgb, inputBytes, goInput: readF32LE(inputBytes) };
}

/** Compact JSON: 2-space indent, but arrays of numbers/strings on one line. */
function stringify(obj) {
  return JSON.stringify(obj, null, 2).replace(/\[\s*((?:-?[\d.eE+-]+|"[^"\n]*")(?:,\s*(?:-?[\d.eE+-]+|"[^"\n]*"))*)\s*\]/g,
    (_, body) => '[' + body.split(/,\s*/).join(', ') + ']') + '\n';
}

function isoDate() {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  const d = epoch ? new Date(Number(epoch) * 1000) : new Date();
  return d.toISOString().slice(0, 10);
}

async function main() {
  const args = parseArgs(process.argv.slice(2), ['dump', 'out', 'models', 'help']);
  if (args.help !== undefined || !args.dump || !args.out || args._.length) {
    console.error(USAGE);
    process.exit(2);
  }
  const modelKeys = parseModelsArg(args.models);
  const index = JSON.parse(fs.readFileSync(path.join(args.dump, 'index.json'), 'utf8'));
  if (!Array.isArray(index) || index.length === 0) throw new Error('index.json: want a non-empty array');
  const entries = [...index].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let i = 1; i < entries.length; i++) if (entries[i].name === entries[i - 1].name) throw new Error(`duplicate fixture ${entries[i].name}`);

  await initTf();
  const gen = versions();
  console.log(`nsfwjs ${gen.nsfwjs}, tfjs ${gen.tfjs}, backend ${gen.backend}, node ${gen.node}; ${entries.length} fixtures, models ${modelKeys.join(',')}`);
  const nsfw = {};
  for (const k of modelKeys) nsfw[k] = await loadModel(k);

  const fixtures = [];
  const t00 = Date.now();
  for (const [n, e] of entries.entries()) {
    const t0 = Date.now();
    const { goRgb, inputBytes, goInput } = loadEntry(args.dump, e);
    const go = { width: e.width, height: e.height, rgb: goRgb };

    // Reference decode: pngjs for PNG, the Go dump otherwise.
    let ref = go;
    let decoder = 'go';
    let pngjsEqualsGo;
    if (e.format === 'png') {
      ref = decodePngRgb(readFile(e.file));
      decoder = 'pngjs';
      pngjsEqualsGo = ref.width === e.width && ref.height === e.height && equalBytes(ref.rgb, goRgb);
    }
    let jpg;
    let jpegjsDiff;
    if (e.format === 'jpeg') {
      const d = jpeg.decode(readFile(e.file), { useTArray: true, formatAsRGBA: false });
      jpg = { width: d.width, height: d.height, rgb: d.data };
      if (d.width !== e.width || d.height !== e.height) throw new Error(`${e.name}: jpeg-js size ${d.width}x${d.height} != Go ${e.width}x${e.height}`);
      jpegjsDiff = maxAbsDiff(jpg.rgb, goRgb);
    }

    const models = {};
    const notes = [];
    for (const k of modelKeys) {
      const sameInput = await predictClassOrder(nsfw[k], goInput);
      const e2e = await classifyRgb(nsfw[k], ref);
      const r = {
        input_sha256: sha256(inputBytes),
        same_input: sameInput,
        tfjs_input_sha256: sha256(f32ToBytesLE(e2e.input)),
        tfjs_input_max_abs_diff: maxAbsDiff(e2e.input, goInput),
        decoder,
        e2e: e2e.probs,
      };
      if (e.format === 'jpeg') {
        r.e2e_jpegjs = (await classifyRgb(nsfw[k], jpg)).probs;
        r.jpegjs_vs_go_max_abs_pixel_diff = jpegjsDiff;
      }
      if (e.format === 'png') r.pngjs_equals_go_rgb = pngjsEqualsGo;
      models[k] = r;
      const top = sameInput.indexOf(Math.max(...sameInput));
      notes.push(`${k}: ${CLASSES[top]} ${sameInput[top].toFixed(4)} e2e|d|=${maxAbsDiff(sameInput, e2e.probs).toExponential(1)}`);
    }
    if (e.format === 'png') notes.push(`pngjs==go:${pngjsEqualsGo}`);
    if (e.format === 'jpeg') notes.push(`jpegjs-vs-go:${jpegjsDiff}`);
    fixtures.push({ name: e.name, file: e.file, format: e.format, width: e.width, height: e.height, models });
    console.log(`[${n + 1}/${entries.length}] ${e.name} (${e.format} ${e.width}x${e.height}) ${notes.join(' ')} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }

  const out = {
    generator: { script: 'build/reference/reference.mjs', ...gen },
    date: isoDate(),
    classes: CLASSES,
    models: Object.fromEntries(modelKeys.map((k) => [k, MODELS[k].name])),
    fixtures,
  };
  fs.mkdirSync(path.dirname(path.resolve(args.out)), { recursive: true });
  fs.writeFileSync(args.out, stringify(out));
  console.log(`wrote ${args.out} (${fixtures.length} fixtures, ${((Date.now() - t00) / 1000).toFixed(0)} s)`);
  for (const k of modelKeys) nsfw[k].dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
