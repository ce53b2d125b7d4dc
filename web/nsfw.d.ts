// Types for nsfw.js: on-device NSFW image classification in WebAssembly.

export declare const VERSION: string;

/** The classes, in the model's output order. */
export declare const CLASSES: readonly ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'];
export type ClassName = (typeof CLASSES)[number];

/** Images larger than this many pixels are refused before decoding. */
export declare const DEFAULT_MAX_PIXELS: number;
/** Frames sampled from an animated image. */
export declare const DEFAULT_MAX_FRAMES: number;

export type ErrorCode = 'load' | 'decode' | 'empty' | 'too-large' | 'unsupported' | 'disposed' | 'policy' | 'internal';

/** Every failure is an NSFWError. */
export declare class NSFWError extends Error {
  readonly name: 'NSFWError';
  readonly code: ErrorCode;
}

/**
 * When an image is NSFW: its Porn, Hentai or Sexy probability reaches that
 * threshold, or their sum reaches `sum`. 0 turns a rule off.
 */
export interface Policy {
  porn: number;
  hentai: number;
  sexy: number;
  sum: number;
}

/** A preset name, a threshold string such as "porn=0.6,sum=0.8" or "balanced,sexy=0", or a Policy. */
export type PolicyInput = 'strict' | 'balanced' | 'lenient' | string | Partial<Policy>;

export interface Prediction {
  className: ClassName;
  probability: number;
}

export interface Result {
  /** The five probabilities, by class name; they sum to 1. */
  probabilities: Record<ClassName, number>;
  /** The classes from most to least probable (nsfwjs's classify() shape). */
  sorted: Prediction[];
  /** The most probable class. */
  top: ClassName;
  /** Porn + Hentai + Sexy. */
  nsfwScore: number;
  /** The policy's verdict. */
  nsfw: boolean;
  verdict: 'safe' | 'nsfw';
  /** The policy the verdict used. */
  policy: Policy;
  /** For animations: the reported frame (highest NSFW score), frames classified, frames in the file. */
  frame: number;
  frames: number;
  frameCount: number;
  /** Size of the image as read. */
  width: number;
  height: number;
  /** Milliseconds in the model (preprocessing and inference) and in total, from the call to the result. */
  engineMs: number;
  ms: number;
}

export type ImageSource =
  | HTMLImageElement
  | HTMLCanvasElement
  | HTMLVideoElement
  | OffscreenCanvas
  | ImageBitmap
  | ImageData
  | VideoFrame
  | Blob
  | File
  | { data: Uint8Array | Uint8ClampedArray; width: number; height: number };

export interface DetectorOptions {
  /** URL of nsfw.wasm; default: next to nsfw.js. */
  wasmURL?: string | URL;
  /** URL of kernels.wasm (SIMD128 kernels); default: next to nsfw.js; null to use the pure-Go kernels. */
  kernelsURL?: string | URL | null;
  /** URL of Go's wasm_exec.js; default: next to nsfw.js. */
  wasmExecURL?: string | URL;
  /** URL to start workers from (this module); default: import.meta.url of nsfw.js. */
  workerURL?: string | URL;
  /** Run in module Web Workers (default true); false runs on the calling thread. */
  worker?: boolean;
  /** Number of workers (or engines when worker is false), each with its own engine; default 1. */
  workers?: number;
  /** Default 'balanced'. */
  policy?: PolicyInput;
  /** Refuse images with more pixels, before decoding; default 50 000 000. */
  maxPixels?: number;
  /** Frames sampled from animated GIF, APNG or WebP (where ImageDecoder exists); default 8. */
  maxFrames?: number;
}

export interface ModelInfo {
  name: string;
  description: string;
  source: string;
  license: string;
  copyright: string;
  classes: ClassName[];
  inputWidth: number;
  inputHeight: number;
  /** Multiply-accumulates per image. */
  macs: number;
  /** Bytes of activation memory per engine. */
  arenaBytes: number;
  /** 'wasm-simd128' or 'go'. */
  kernels: string;
  workers: number;
}

export interface Detector {
  readonly info: ModelInfo;
  /** The engine's presets: strict, balanced, lenient. */
  readonly presets: Readonly<Record<'strict' | 'balanced' | 'lenient', Policy>>;
  /** The current policy. */
  readonly policy: Policy;
  classify(source: ImageSource): Promise<Result>;
  /** Results in input order; failed sources give their NSFWError in place. */
  classifyMany(sources: Iterable<ImageSource>): Promise<Array<Result | NSFWError>>;
  setPolicy(policy: PolicyInput): Promise<Policy>;
  /** Stops the workers; later calls reject with code 'disposed'. */
  dispose(): void;
}

/** Loads the engine. A failed call can be retried. */
export declare function createDetector(options?: DetectorOptions): Promise<Detector>;

/** Applies a policy to probabilities exactly as the engine does. */
export declare function evaluate(probabilities: Record<ClassName, number> | number[], policy: Policy): boolean;

/** Whether this browser runs WebAssembly SIMD128 (detected by validating a tiny module). */
export declare function hasSIMD(): boolean;
