// The empty module a bundler substitutes for Node built-ins that
// @tensorflow/tfjs-backend-wasm imports but never uses in a browser (its
// package.json "browser" field maps them to false).
export default {};
