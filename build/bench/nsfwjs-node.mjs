// Times nsfwjs@4.4.0 in Node on a fixed 224x224 input, for the benchmark
// table in BENCHMARKS.md (the peer of the native Go engine).
//
//   node build/bench/nsfwjs-node.mjs [--runs 30] [--backends wasm,cpu] [--models default,mid]
//
// Prints one JSON object per backend/model on stdout:
//   {"backend":"wasm","model":"default","ms":[...sorted per-image ms...],"load_ms":...}
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import * as nsfwjs from 'nsfwjs';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const runs = Number(args.runs ?? 30);
const backends = (args.backends ?? 'wasm,cpu').split(',');
const models = (args.models ?? 'default').split(',');
const names = { default: 'MobileNetV2', mid: 'MobileNetV2Mid' };

// Quiet the banners nsfwjs and TF.js print.
console.info = () => {};
const log = console.log;
console.log = (...a) => { if (!String(a[0]).includes('TensorFlow.js')) process.stderr.write(a.join(' ') + '\n'); };

const data = new Float32Array(224 * 224 * 3);
for (let i = 0; i < data.length; i++) data[i] = ((i * 7) % 256) / 255;

for (const backend of backends) {
  await tf.setBackend(backend);
  await tf.ready();
  for (const m of models) {
    const t0 = performance.now();
    const model = await nsfwjs.load(names[m], m === 'mid' ? { type: 'graph' } : undefined);
    const loadMs = performance.now() - t0;
    const x = tf.tensor4d(data, [1, 224, 224, 3]);
    const once = async () => {
      const s = performance.now();
      const y = model.model.predict(x);
      await y.data();
      y.dispose();
      return performance.now() - s;
    };
    for (let i = 0; i < 3; i++) await once(); // warm-up
    const n = backend === 'cpu' ? Math.min(runs, 5) : runs;
    const ms = [];
    for (let i = 0; i < n; i++) ms.push(await once());
    ms.sort((a, b) => a - b);
    x.dispose();
    model.dispose();
    log(JSON.stringify({ backend, model: m, threads: backend === 'wasm' ? 1 : undefined, load_ms: loadMs, ms }));
  }
}
