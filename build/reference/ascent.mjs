#!/usr/bin/env node
// Makes "class-maximising" fixture images by signed-gradient ascent on the reference
// nsfwjs@4.4.0 models (TF.js cpu backend), so every class is covered without explicit imagery.
//
//   node build/reference/ascent.mjs --seed PATH.png --out DIR [--models default,mid] [--target 0.95] [--max-steps 200]
//
// For each model and class c, starting from the seed (pngjs decode, alpha dropped, resized to
// 224x224 with tf.image.resizeBilinear(alignCorners=true) and rounded if needed), the integer
// image x in [0,255] is iterated as  x <- clip(x + sign(d log p_c / d x), 0, 255)  (i.e. steps of
// exactly 1/255 in model-input space) until p_c >= target, where p_c is evaluated on the integer
// image through nsfwjs' own classify() path (int32 tensor -> toFloat -> div(255) -> predict; no
// resize at 224x224). Writes DIR/ascent-<model>-<class>.png (8-bit RGB) and re-checks the written
// file after decoding it again.
import fs from 'node:fs';
import path from 'node:path';
import {
  tf, CLASSES, MODELS, SIZE, initTf, loadModel, parseModelsArg, parseArgs, versions,
  decodePngRgb, encodePngRgb, rgbTensor, classifyToClassOrder,
} from './lib.mjs';

const USAGE = 'usage: node build/reference/ascent.mjs --seed PATH.png --out DIR [--models default,mid] [--target 0.95] [--max-steps 200]';

/**
 * The TF.js gradient of fused conv2d (used by both models for every conv with bias) is a
 * customGrad that eagerly computes the filter gradient via Conv2DBackpropFilter, even though we
 * only differentiate w.r.t. the input. On the cpu backend that kernel costs ~30 s per
 * backward pass (vs ~3 s for everything else). The filter gradients are discarded by tf.grad,
 * so in this process we replace the cpu kernel with one that returns zeros of the right shape.
 * Forward passes (and therefore every reported probability) never use this kernel; input
 * gradients are unaffected (checked: identical values with and without the override).
 */
function skipFilterGradients() {
  tf.unregisterKernel('Conv2DBackpropFilter', 'cpu');
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'cpu',
    kernelFunc: ({ attrs, backend }) => {
      const n = attrs.filterShape.reduce((a, b) => a * b, 1);
      return backend.makeTensorInfo(attrs.filterShape, 'float32', new Float32Array(n));
    },
  });
}

/** Seed PNG -> Int32Array(224*224*3) of integers in [0,255]. */
function loadSeed(file) {
  const { width, height, rgb } = decodePngRgb(fs.readFileSync(file));
  if (width === SIZE && height === SIZE) return { pixels: Int32Array.from(rgb), width, height };
  const pixels = tf.tidy(() => {
    const t = rgbTensor(width, height, rgb);
    const r = tf.image.resizeBilinear(t, [SIZE, SIZE], true);
    return tf.clipByValue(tf.round(r), 0, 255).toInt(); // tf.round is half-to-even
  });
  const out = pixels.dataSync().slice();
  pixels.dispose();
  return { pixels: out, width, height };
}

/** p (class order) for an integer 224x224 image via nsfwjs' classify() (exact nsfwjs path). */
async function probsOf(nsfw, pixels) {
  const t = tf.tensor3d(pixels, [SIZE, SIZE, 3], 'int32');
  try {
    return classifyToClassOrder(await nsfw.classify(t, CLASSES.length));
  } finally {
    t.dispose();
  }
}

/** One ascent step on the integer image: x + sign(grad of log p_c wrt input), clipped to [0,255]. */
function step(nsfw, pixels, c) {
  const next = tf.tidy(() => {
    const img = tf.tensor3d(pixels, [SIZE, SIZE, 3], 'int32');
    const x = img.toFloat().div(tf.scalar(255)).reshape([1, SIZE, SIZE, 3]);
    const f = (inp) => tf.log(nsfw.model.predict(inp).slice([0, c], [1, 1])).sum();
    const g = tf.grad(f)(x).reshape([SIZE, SIZE, 3]);
    return tf.clipByValue(img.add(tf.sign(g).toInt()), 0, 255);
  });
  const out = next.dataSync().slice();
  next.dispose();
  return out;
}

function fmt(p) {
  return '[' + p.map((v) => v.toFixed(6)).join(' ') + ']';
}

async function main() {
  const args = parseArgs(process.argv.slice(2), ['seed', 'out', 'models', 'target', 'max-steps', 'help']);
  if (args.help !== undefined || !args.seed || !args.out || args._.length) {
    console.error(USAGE);
    process.exit(2);
  }
  const target = args.target === undefined ? 0.95 : Number(args.target);
  const maxSteps = args['max-steps'] === undefined ? 200 : Number(args['max-steps']);
  if (!(target > 0 && target < 1)) throw new Error('--target must be in (0,1)');
  if (!(Number.isInteger(maxSteps) && maxSteps > 0)) throw new Error('--max-steps must be a positive integer');
  const modelKeys = parseModelsArg(args.models);

  await initTf();
  skipFilterGradients();
  const v = versions();
  console.log(`nsfwjs ${v.nsfwjs}, tfjs ${v.tfjs}, backend ${v.backend}, node ${v.node}`);

  const seed = loadSeed(args.seed);
  console.log(`seed ${args.seed} (${seed.width}x${seed.height}${seed.width === SIZE && seed.height === SIZE ? '' : ' -> 224x224'}), target ${target}, max ${maxSteps} steps`);
  fs.mkdirSync(args.out, { recursive: true });

  const failures = [];
  for (const key of modelKeys) {
    const nsfw = await loadModel(key);
    const p0 = await probsOf(nsfw, seed.pixels);
    console.log(`${key} (${MODELS[key].name}) seed p=${fmt(p0)}`);
    for (let c = 0; c < CLASSES.length; c++) {
      const file = path.join(args.out, `ascent-${key}-${CLASSES[c].toLowerCase()}.png`);
      const t0 = Date.now();
      let pixels = seed.pixels;
      let p = p0;
      let n = 0;
      while (p[c] < target && n < maxSteps) {
        pixels = step(nsfw, pixels, c);
        n++;
        p = await probsOf(nsfw, pixels);
        if (process.env.ASCENT_VERBOSE) console.log(`  step ${n}: p_${CLASSES[c]}=${p[c]}`);
      }
      if (p[c] < target) {
        failures.push(file);
        console.error(`FAIL ${file}: p_${CLASSES[c]}=${p[c]} < ${target} after ${n} steps; not written`);
        continue;
      }
      const png = encodePngRgb(SIZE, SIZE, Uint8Array.from(pixels));
      fs.writeFileSync(file, png);
      // Re-check the written file exactly as a consumer would see it.
      const back = decodePngRgb(png);
      const pf = await probsOf(nsfw, Int32Array.from(back.rgb));
      if (pf.some((x, i) => x !== p[i])) throw new Error(`${file}: probabilities changed after PNG round trip`);
      let maxDelta = 0;
      for (let i = 0; i < pixels.length; i++) maxDelta = Math.max(maxDelta, Math.abs(pixels[i] - seed.pixels[i]));
      console.log(`${file}: steps=${n} p_${CLASSES[c]}=${p[c]} p=${fmt(p)} max|dx|=${maxDelta}/255 (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    }
    nsfw.dispose();
  }
  if (failures.length) {
    console.error(`${failures.length} target(s) not reached: ${failures.join(', ')}`);
    process.exit(1);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
