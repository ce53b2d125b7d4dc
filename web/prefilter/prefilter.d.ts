// Types for prefilter.js: check images in the browser before they are uploaded.

import type { ClassName, Detector, Result } from '../nsfw.js';

/** The formats the Go server decodes. */
export declare const FORMATS: readonly ['jpeg', 'png', 'gif', 'webp', 'bmp'];

/** Why a file is refused; the same codes as the server's JSON reasons. */
export type Reason = 'nsfw' | 'decode' | 'too-large' | 'too-many-frames' | 'unsupported' | 'empty' | 'engine';
export declare const REASONS: readonly Reason[];

export type Format = 'jpeg' | 'png' | 'gif' | 'webp' | 'bmp' | 'webp-animated' | 'heic' | 'avif' | 'tiff' | 'pdf' | 'svg';

/** Names a file's format from its first bytes (at least 32), or null. */
export declare function sniffFormat(bytes: Uint8Array | ArrayBuffer): Format | null;

/** The outcome for one file. */
export interface Verdict {
  file: Blob;
  filename: string;
  /** The input's name (guardFileInput) or options.field. */
  field: string;
  size: number;
  accepted: boolean;
  /** Why the file is refused; null when accepted. */
  reason: Reason | null;
  /** The sentence shown and announced for this file. */
  message: string;
  /** Technical detail: the policy rules that fired ("porn 0.99 ≥ 0.50"), or the error message. */
  detail: string;
  /** The model's outcome when the image could be classified. */
  verdict: 'safe' | 'nsfw' | null;
  top: ClassName | null;
  nsfwScore: number | null;
  probabilities: Record<ClassName, number> | null;
  format: Format | null;
  result: Result | null;
}

/** What a message function gets. */
export interface MessageInfo {
  filename: string;
  format: Format | null;
  formats: readonly string[];
  /** The format is one this browser cannot decode (HEIC outside Safari). */
  browserCannot: boolean;
  /** For 'nsfw': the most probable of Porn, Hentai and Sexy, and its probability. */
  top: ClassName | null;
  score: number;
  detail: string;
}

export interface Messages {
  checking(v: MessageInfo): string;
  accepted(v: MessageInfo): string;
  nsfw(v: MessageInfo): string;
  decode(v: MessageInfo): string;
  'too-large'(v: MessageInfo): string;
  'too-many-frames'(v: MessageInfo): string;
  unsupported(v: MessageInfo): string;
  empty(v: MessageInfo): string;
  engine(v: MessageInfo): string;
  progress(c: { total: number }): string;
  ready(c: { total: number }): string;
  rejected(c: { total: number; rejected: number }): string;
  tooMany(c: { total: number; maxFiles: number }): string;
  tooMuch(c: { bytes: number; maxBytes: number }): string;
  oneOnly(c: { total: number }): string;
  waiting(): string;
  /** Files left out of a submission (formdata) because they were not checked and accepted yet. */
  notSent(c: { total: number }): string;
  unchecked(): string;
  cleared(): string;
}

/** The default (English) messages. */
export declare const MESSAGES: Readonly<Messages>;

export interface CheckOptions {
  /** The engine: a Detector from nsfw.js's createDetector, or the promise of one. Its policy decides. */
  detector: Detector | Promise<Detector>;
  /** Refuse larger files before decoding (the server's limit). */
  maxFileBytes?: number;
  /** Formats accepted (default FORMATS); null accepts whatever this browser decodes. */
  formats?: readonly string[] | null;
  messages?: Partial<Messages>;
  field?: string;
}

export declare function checkFile(file: Blob, options: CheckOptions): Promise<Verdict>;
/** One verdict per file, in order. Never rejects. */
export declare function checkFiles(files: Iterable<Blob> | ArrayLike<Blob>, options: CheckOptions): Promise<Verdict[]>;

/** The message for a verdict, or for a file entry of the server's 422 answer. */
export declare function describe(v: Partial<Verdict> & { filename: string }, messages?: Partial<Messages>, formats?: readonly string[]): string;

export type GuardState = 'empty' | 'checking' | 'accepted' | 'rejected' | 'unchecked';

export interface GuardOptions extends CheckOptions {
  /** Where summaries are announced (default: a <p role="status" aria-live="polite"> after the input). */
  status?: HTMLElement;
  /** Where each file is listed (default: a <ul> after the status). */
  list?: HTMLElement;
  /** An element that accepts dropped files. */
  dropZone?: HTMLElement;
  maxFiles?: number;
  maxBodyBytes?: number;
  /** Hold a submit made during the check and send it when every file passes (default true). */
  submitWhenReady?: boolean;
  /** Let the form through when the engine cannot run in this browser (default false). */
  allowUnchecked?: boolean;
  /** The file fields the server checks (ClientConfig.fields); default all. */
  fields?: readonly string[] | null;
}

export interface Guard {
  readonly state: GuardState;
  readonly verdicts: Verdict[];
  /** Resolves when the current choice is checked. */
  readonly ready: Promise<Verdict[]>;
  checkFiles(files: Iterable<Blob> | ArrayLike<Blob>): Promise<Verdict[]>;
  /** Removes the listeners and the elements the guard made. */
  dispose(): void;
}

/** The input fires this on every change of state. */
export interface PrefilterEventDetail {
  state: GuardState;
  verdicts: Verdict[];
}

/**
 * Guards the input and its whole form: files are checked when chosen and
 * again at submission (whatever set them), and the formdata of every
 * submission (form.submit(), new FormData(form) too) keeps only files
 * checked and accepted.
 */
export declare function guardFileInput(input: HTMLInputElement, options: GuardOptions): Guard;

/** The form fires this when it left files out of a submission. */
export interface PrefilterRemovedEventDetail {
  files: File[];
}

/** Guards a form's submissions without a file input to show (inputs added later). */
export declare function guardForm(form: HTMLFormElement, options: GuardOptions): { dispose(): void };
