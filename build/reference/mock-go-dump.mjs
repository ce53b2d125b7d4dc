#!/usr/bin/env node
// TEST MOCK ONLY. Stand-in for the Go tool `go run ./build/dump -out DIR FILE...`, used to test
// reference.mjs end to end before/without the Go side. It writes the same layout
// (DIR/index.json, DIR/<name>.rgb, DIR/<name>.in.f32) but decodes with pngjs (PNG) / jpeg-js
// (JPEG) and preprocesses with TF.js (x/255, then resizeBilinear alignCorners=true unless 224x224),
// so every "Go vs TF.js" comparison in its output is trivially exact. Never use its output for
// testdata/reference.json.
//
//   node build/reference/mock-go-dump.mjs -out DIR FILE...
import fs from 'node:fs';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { tf, SIZE, REPO_ROOT, initTf, decodePngRgb, rgbTensor, f32ToBytesLE, parseArgs } from './lib.mjs';

function sniff(buf) {
  if (buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (buf[0] === 0xff && buf[1] === 0xd8) return 'jpeg';
  if (buf.subarray(0, 3).toString('latin1') === 'GIF') return 'gif';
  if (buf.subarray(0, 2).toString('latin1') === 'BM') return 'bmp';
  if (buf.subarray(0, 4).toString('latin1') === 'RIFF' && buf.subarray(8, 12).toString('latin1') === 'WEBP') return 'webp';
  return 'unknown';
}

async function main() {
  const args = parseArgs(process.argv.slice(2), ['out']);
  if (!args.out || args._.length === 0) {
    console.error('usage: node build/reference/mock-go-dump.mjs -out DIR FILE...   (TEST MOCK of go run ./build/dump)');
    process.exit(2);
  }
  await initTf();
  fs.mkdirSync(args.out, { recursive: true });
  const index = [];
  for (const file of args._) {
    const buf = fs.readFileSync(file);
    const format = sniff(buf);
    let img;
    if (format === 'png') img = decodePngRgb(buf);
    else if (format === 'jpeg') {
      const d = jpeg.decode(buf, { useTArray: true, formatAsRGBA: false });
      img = { width: d.width, height: d.height, rgb: d.data };
    } else {
      console.error(`mock: skipping ${file} (${format}; only png/jpeg are supported by the mock)`);
      continue;
    }
    const name = path.basename(file);
    const input = tf.tidy(() => {
      const x = rgbTensor(img.width, img.height, img.rgb).toFloat().div(tf.scalar(255));
      return img.width === SIZE && img.height === SIZE ? x : tf.image.resizeBilinear(x, [SIZE, SIZE], true);
    });
    fs.writeFileSync(path.join(args.out, `${name}.rgb`), img.rgb);
    fs.writeFileSync(path.join(args.out, `${name}.in.f32`), f32ToBytesLE(input.dataSync()));
    input.dispose();
    index.push({
      name, file: path.relative(REPO_ROOT, path.resolve(file)), format, width: img.width, height: img.height,
      rgb: `${name}.rgb`, input: `${name}.in.f32`,
    });
  }
  fs.writeFileSync(path.join(args.out, 'index.json'), JSON.stringify(index, null, 2) + '\n');
  console.log(`mock: wrote ${index.length} entries to ${path.join(args.out, 'index.json')}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
