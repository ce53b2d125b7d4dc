// Shared helpers for the Node.js reference tooling (nsfwjs@4.4.0 on TF.js, cpu backend).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import * as nsfwjs from 'nsfwjs';
import pngjs from 'pngjs';

const { PNG } = pngjs;
const require = createRequire(import.meta.url);

export { tf, nsfwjs };

/** Repository root (build/reference/ -> ../..). Relative fixture paths are resolved against it. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const SIZE = 224;

/** Class order of the model output (nsfwjs NSFW_CLASSES). */
export const CLASSES = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'];

/** Short model keys used on the command line, in file names and in reference.json. */
export const MODELS = {
  default: { name: 'MobileNetV2', options: undefined },
  mid: { name: 'MobileNetV2Mid', options: { type: 'graph' } },
};

/** Version of an installed package (nsfwjs does not export ./package.json). */
function packageVersion(name) {
  let dir = path.dirname(require.resolve(name));
  for (;;) {
    const f = path.join(dir, 'package.json');
    if (fs.existsSync(f)) {
      const pkg = JSON.parse(fs.readFileSync(f, 'utf8'));
      if (pkg.name === name) return pkg.version;
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find package.json of ${name}`);
    dir = up;
  }
}

export function versions() {
  return {
    nsfwjs: packageVersion('nsfwjs'),
    tfjs: tf.version.tfjs,
    backend: tf.getBackend(),
    node: process.version,
  };
}

/** Selects the pure-JS cpu backend (no tfjs-node), as the reference requires. */
export async function initTf() {
  const ok = await tf.setBackend('cpu');
  await tf.ready();
  if (!ok || tf.getBackend() !== 'cpu') throw new Error(`could not select the cpu backend (got ${tf.getBackend()})`);
}

/**
 * Loads a model bundled inside the nsfwjs package. nsfwjs' index `load()` injects
 * DEFAULT_MODELS (MobileNetV2, MobileNetV2Mid, InceptionV3) as options.modelDefinitions;
 * their model.json / weight shards are CommonJS modules under nsfwjs/dist/models/ that
 * are `import()`ed, so nothing is fetched. MobileNetV2Mid's definition already carries
 * {type: 'graph'}; we pass it anyway.
 */
export async function loadModel(key) {
  const def = MODELS[key];
  if (!def) throw new Error(`unknown model key ${JSON.stringify(key)} (want one of ${Object.keys(MODELS).join(', ')})`);
  return nsfwjs.load(def.name, def.options);
}

export function parseModelsArg(value) {
  const keys = (value || 'default,mid').split(',').map((s) => s.trim()).filter(Boolean);
  for (const k of keys) if (!MODELS[k]) throw new Error(`--models: unknown model ${JSON.stringify(k)} (want default and/or mid)`);
  return keys;
}

/** Decodes a PNG with pngjs and drops alpha: {width, height, rgb: Uint8Array(h*w*3)}. */
export function decodePngRgb(buf) {
  const png = PNG.sync.read(buf); // always RGBA 8-bit out (16-bit rescaled, palette expanded)
  const { width, height, data } = png;
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < width * height * 4; i += 4, j += 3) {
    rgb[j] = data[i];
    rgb[j + 1] = data[i + 1];
    rgb[j + 2] = data[i + 2];
  }
  return { width, height, rgb };
}

/** Encodes raw RGB (h*w*3 uint8) as an 8-bit RGB PNG with pngjs. */
export function encodePngRgb(width, height, rgb) {
  if (rgb.length !== width * height * 3) throw new Error('encodePngRgb: bad buffer size');
  return PNG.sync.write(
    { width, height, data: Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength) },
    { colorType: 2, inputColorType: 2, inputHasAlpha: false, bitDepth: 8 },
  );
}

/** int32 [h,w,3] tensor from raw RGB bytes: what nsfwjs classify()/infer() accept without fromPixels. */
export function rgbTensor(width, height, rgb) {
  return tf.tensor3d(Int32Array.from(rgb), [height, width, 3], 'int32');
}

/** Probabilities in class order from a nsfwjs.classify() result (which nsfwjs sorts by probability). */
export function classifyToClassOrder(result) {
  const out = new Array(CLASSES.length).fill(null);
  for (const { className, probability } of result) {
    const i = CLASSES.indexOf(className);
    if (i < 0) throw new Error(`unexpected class ${className}`);
    out[i] = probability;
  }
  if (out.some((v) => v === null)) throw new Error('classify() did not return all classes');
  return out;
}

/**
 * Runs nsfwjs classify() on an int32 [h,w,3] tensor, capturing the exact float input that
 * nsfwjs feeds to model.predict (after its toFloat/div(255)/resizeBilinear/reshape).
 * Returns {probs (class order), input: Float32Array(224*224*3)}.
 */
export async function classifyCapturingInput(nsfw, imgTensor) {
  const model = nsfw.model;
  const orig = model.predict;
  let captured = null;
  model.predict = function (x, ...rest) {
    captured = x.dataSync().slice();
    return orig.call(this, x, ...rest);
  };
  try {
    const result = await nsfw.classify(imgTensor, CLASSES.length);
    if (!captured) throw new Error('model.predict was not called by classify()');
    return { probs: classifyToClassOrder(result), input: captured };
  } finally {
    delete model.predict; // back to the prototype method
    if (model.predict !== orig) model.predict = orig;
  }
}

export function readF32LE(buf) {
  const n = buf.length / 4;
  if (!Number.isInteger(n)) throw new Error('float32 file length is not a multiple of 4');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
  return out;
}

export function f32ToBytesLE(arr) {
  const buf = Buffer.alloc(arr.length * 4);
  for (let i = 0; i < arr.length; i++) buf.writeFloatLE(arr[i], i * 4);
  return buf;
}

/** Minimal `--flag value` / `-flag value` parser; positional args collected in `_`. */
export function parseArgs(argv, known) {
  const out = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('-') && a !== '-') {
      let [k, v] = a.replace(/^--?/, '').split(/=(.*)/s, 2);
      if (!known.includes(k)) throw new Error(`unknown flag ${a}`);
      if (v === undefined) {
        if (i + 1 >= argv.length) throw new Error(`flag ${a} needs a value`);
        v = argv[++i];
      }
      out[k] = v;
    } else out._.push(a);
  }
  return out;
}

export function readFile(p) {
  return fs.readFileSync(path.isAbsolute(p) ? p : path.resolve(REPO_ROOT, p));
}
