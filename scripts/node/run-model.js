#!/usr/bin/env node
// run-model.js runs an ONNX model in onnxruntime-node on one float32 input.
//
//   node scripts/node/run-model.js MODEL.onnx IN.f32 N,C,H,W OUT.f32
//
// IN.f32 holds the input as raw little-endian float32 in the given shape;
// the model's first output is written to OUT.f32 the same way, and its
// shape is printed to stderr. onnxruntime-node is looked up beside this
// script first, then in third_party/node/ (where scripts/install-node-ort.sh
// puts it), so the script runs from any working directory.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

function loadOrt() {
  const paths = [__dirname, path.join(__dirname, '..', '..', 'third_party', 'node')];
  try {
    return require(require.resolve('onnxruntime-node', { paths }));
  } catch (err) {
    throw new Error(`cannot load onnxruntime-node (run scripts/install-node-ort.sh): ${err.message}`);
  }
}

function readFloat32s(file) {
  const b = fs.readFileSync(file);
  if (b.length % 4 !== 0) {
    throw new Error(`${file}: ${b.length} bytes is not a whole number of float32`);
  }
  const x = new Float32Array(b.length / 4);
  for (let i = 0; i < x.length; i++) {
    x[i] = b.readFloatLE(4 * i);
  }
  return x;
}

function writeFloat32s(file, x) {
  const b = Buffer.alloc(4 * x.length);
  for (let i = 0; i < x.length; i++) {
    b.writeFloatLE(x[i], 4 * i);
  }
  fs.writeFileSync(file, b);
}

function parseShape(s) {
  const dims = s.split(',').map(Number);
  if (dims.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new Error(`bad shape ${JSON.stringify(s)}: want positive integers, e.g. 4,3,32,32`);
  }
  return dims;
}

async function main(argv) {
  if (argv.length !== 4) {
    console.error('usage: node run-model.js MODEL.onnx IN.f32 N,C,H,W OUT.f32');
    process.exit(2);
  }
  const [modelFile, inFile, shapeArg, outFile] = argv;
  const ort = loadOrt();
  const dims = parseShape(shapeArg);
  const x = readFloat32s(inFile);
  const want = dims.reduce((a, b) => a * b, 1);
  if (x.length !== want) {
    throw new Error(`${inFile} holds ${x.length} values, shape ${shapeArg} needs ${want}`);
  }

  const session = await ort.InferenceSession.create(modelFile, { intraOpNumThreads: 1 });
  const t0 = process.hrtime.bigint();
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', x, dims) };
  const results = await session.run(feeds);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const y = results[session.outputNames[0]];
  if (y.type !== 'float32') {
    throw new Error(`output ${session.outputNames[0]} is ${y.type}, want float32`);
  }
  writeFloat32s(outFile, y.data);
  console.error(`run-model: onnxruntime-node ${ort.env.versions.node}: ` +
    `${session.inputNames[0]} [${dims}] -> ${session.outputNames[0]} [${y.dims}] in ${ms.toFixed(1)} ms`);
  await session.release();
}

main(process.argv.slice(2)).catch((err) => {
  console.error(`run-model: ${err.message}`);
  process.exit(1);
});
