// prefilter.js: check images in the browser before they are uploaded.
//
// One ES module, no framework, no dependencies, no eval or inline styles
// (it works under `default-src 'self'; script-src 'self'
// 'wasm-unsafe-eval'`). It takes a detector from nsfw.js and checks each
// file a form's file input holds, on this device, before the form can be
// sent:
//
//   import { createDetector } from '../nsfw.js';
//   import { guardFileInput } from './prefilter.js';
//   const config = await (await fetch('/upload/config')).json();  // the server's policy and limits
//   const detector = createDetector({ policy: config.policy, maxPixels: config.maxPixels });
//   guardFileInput(document.querySelector('input[type=file]'), { detector, ...config });
//
// The check in the browser spares honest users a slow round trip and keeps
// rejected images on their device. Any client can skip it: the server must
// check again, with the same policy (github.com/nsfw-go/nsfw/upload).
//
// The check is tied to the files actually sent, not to change events:
// at submission every file input of the form is checked again (files set
// from script without a change event, inputs added later), and at the
// `formdata` event, which form.submit() and new FormData(form) fire too,
// any file not yet checked and accepted is taken out of the data sent.

/** The formats the Go server decodes; others are refused here too, even where this browser could decode them. */
export const FORMATS = Object.freeze(['jpeg', 'png', 'gif', 'webp', 'bmp']);

/** Why a file is refused: the codes of the server's JSON reasons and of nsfw.js's NSFWError. */
export const REASONS = Object.freeze(['nsfw', 'decode', 'too-large', 'too-many-frames', 'unsupported', 'empty', 'engine']);

const FORMAT_NAMES = {
  jpeg: 'JPEG', png: 'PNG', gif: 'GIF', webp: 'WebP', bmp: 'BMP',
  'webp-animated': 'Animated WebP', heic: 'HEIC', avif: 'AVIF', tiff: 'TIFF', pdf: 'PDF', svg: 'SVG',
};

/**
 * sniffFormat names a file's format from its first bytes (at least 32):
 * never from its name or type, which the user's system makes up. Animated
 * WebP is told apart ('webp-animated'): the server decodes only still WebP.
 */
export function sniffFormat(bytes) {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const ascii = (i, n) => String.fromCharCode(...b.subarray(i, i + n));
  const starts = (...sig) => sig.every((v, i) => b[i] === v);
  if (starts(0xff, 0xd8, 0xff)) return 'jpeg';
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'png';
  if (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a') return 'gif';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 4) === 'WEBP') {
    // The Go decoder reads still WebP only; the VP8X header flags animation.
    return ascii(12, 4) === 'VP8X' && (b[20] & 0x02) ? 'webp-animated' : 'webp';
  }
  if (ascii(0, 2) === 'BM' && [12, 16, 40, 52, 56, 64, 108, 124].includes(b[14] | (b[15] << 8))) return 'bmp';
  if (ascii(4, 4) === 'ftyp') {
    const brand = ascii(8, 4);
    if (brand === 'avif' || brand === 'avis') return 'avif';
    if (['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'hevm', 'hevs', 'mif1', 'msf1'].includes(brand)) return 'heic';
  }
  if (ascii(0, 4) === 'II*\0' || ascii(0, 4) === 'MM\0*') return 'tiff';
  if (ascii(0, 5) === '%PDF-') return 'pdf';
  if (/^\s*(<\?xml[^>]*>\s*)?<svg/i.test(ascii(0, Math.min(b.length, 256)))) return 'svg';
  return null;
}

const quote = (name) => `“${name || 'pasted image'}”`;
const percent = (p) => `${Math.round(p * 100)}%`;

function formatBytes(n) {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1).replace(/\.0$/, '')} MB`;
  if (n >= 1 << 10) return `${Math.round(n / (1 << 10))} KB`;
  return `${n} bytes`;
}

function formatList(formats) {
  const names = formats.map((f) => FORMAT_NAMES[f] ?? f.toUpperCase());
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : names[0];
}

/**
 * The default messages, in English. Each takes a verdict (or, for the
 * summaries, counts); pass your own to guardFileInput or checkFiles as
 * `messages` to change or translate any of them.
 */
export const MESSAGES = Object.freeze({
  checking: (v) => `Checking ${quote(v.filename)}…`,
  accepted: (v) => `${quote(v.filename)} is ready to upload.`,
  nsfw: (v) => `${quote(v.filename)} can’t be uploaded: it was flagged as not safe for work (${v.top} ${percent(v.score)}).`,
  decode: (v) => `${quote(v.filename)} can’t be uploaded: it could not be read as an image, so the file may be damaged.`,
  'too-large': (v) => `${quote(v.filename)} can’t be uploaded: it is too large (${v.detail}).`,
  'too-many-frames': (v) => `${quote(v.filename)} can’t be uploaded: the animation has too many frames to be checked${v.detail ? ` (${v.detail})` : ''}.`,
  unsupported: (v) => (v.format
    ? `${quote(v.filename)} can’t be uploaded: ${FORMAT_NAMES[v.format] ?? v.format} images ${v.browserCannot ? 'can’t be read by this browser' : 'are not accepted'}. Please use ${formatList(v.formats)}.`
    : `${quote(v.filename)} can’t be uploaded: it is not an image. Please use ${formatList(v.formats)}.`),
  empty: (v) => `${quote(v.filename)} can’t be uploaded: the file is empty.`,
  engine: (v) => `${quote(v.filename)} could not be checked on this device: ${v.detail}`,
  // Summaries, announced in the status region.
  progress: ({ total }) => (total === 1 ? 'Checking the image on this device…' : `Checking ${total} images on this device…`),
  ready: ({ total }) => (total === 1 ? 'The image was checked: ready to upload.' : `All ${total} images were checked: ready to upload.`),
  rejected: ({ total, rejected }) => (total === 1
    ? 'The image can’t be uploaded. Remove it or choose another.'
    : `${rejected} of ${total} files can’t be uploaded. Remove or replace ${rejected === 1 ? 'it' : 'them'} to continue.`),
  tooMany: ({ total, maxFiles }) => `${total} files were chosen, but at most ${maxFiles} can be uploaded at once.`,
  tooMuch: ({ bytes, maxBytes }) => `The files add up to ${formatBytes(bytes)}, over the ${formatBytes(maxBytes)} that can be uploaded at once.`,
  oneOnly: ({ total }) => `${total} files were dropped, but only one can be chosen here: the first is used.`,
  waiting: () => 'Still checking: the form will be sent when the check is done.',
  notSent: ({ total }) => (total === 1
    ? 'A file was left out of what was sent: it had not been checked on this device yet.'
    : `${total} files were left out of what was sent: they had not been checked on this device yet.`),
  unchecked: () => 'The images could not be checked on this device; the server will check them.',
  cleared: () => 'No file chosen.',
});

// rules lists the policy rules a result fires, as Go's Policy.Explain does:
// "porn 0.99 ≥ 0.50, sum 1.00 ≥ 0.70". Thresholds are float32 in the engine.
function rules(result) {
  const p = result.policy ?? {};
  const out = [];
  for (const [key, cls] of [['porn', 'Porn'], ['hentai', 'Hentai'], ['sexy', 'Sexy']]) {
    if (p[key] > 0 && result.probabilities[cls] >= Math.fround(p[key])) out.push(`${key} ${result.probabilities[cls].toFixed(2)} ≥ ${p[key].toFixed(2)}`);
  }
  if (p.sum > 0 && result.nsfwScore >= Math.fround(p.sum)) out.push(`sum ${result.nsfwScore.toFixed(2)} ≥ ${p.sum.toFixed(2)}`);
  return out.join(', ');
}

// The class shown for an NSFW verdict: the most probable of the three.
function worstClass(probabilities) {
  return ['Porn', 'Hentai', 'Sexy'].reduce((a, b) => ((probabilities[b] ?? 0) > (probabilities[a] ?? 0) ? b : a));
}

/**
 * describe returns the message for a verdict from checkFile, or for a file
 * entry of the server's 422 answer ({filename, reason, probabilities,
 * message, ...}), so that both read the same.
 */
export function describe(v, messages = MESSAGES, formats = FORMATS) {
  const m = { ...MESSAGES, ...messages };
  const reason = v.reason ?? (v.accepted === false ? 'decode' : null);
  const probabilities = v.probabilities ?? null;
  const top = probabilities ? worstClass(probabilities) : null;
  const info = {
    filename: v.filename, format: v.format ?? null, formats, browserCannot: Boolean(v.browserCannot),
    top, score: top ? probabilities[top] : 0, detail: v.detail ?? v.message ?? '',
  };
  if (!reason) return m.accepted(info);
  return (m[reason] ?? m.decode)(info);
}

/**
 * checkFile checks one File or Blob. It resolves (never rejects) to a
 * verdict: {file, filename, field, size, accepted, reason, message,
 * detail, verdict, top, nsfwScore, probabilities, format, result}.
 * options: detector (required: a Detector or a promise of one), maxFileBytes,
 * formats (default FORMATS; null accepts whatever the browser decodes),
 * messages, field.
 */
export async function checkFile(file, options = {}) {
  const formats = options.formats === undefined ? FORMATS : options.formats;
  const v = {
    file, filename: file?.name ?? '', field: options.field ?? '', size: file?.size ?? 0,
    accepted: false, reason: null, message: '', detail: '',
    verdict: null, top: null, nsfwScore: null, probabilities: null, format: null, result: null,
  };
  const done = (reason, detail = '') => {
    v.reason = reason;
    v.detail = detail;
    v.accepted = reason === null;
    v.message = describe(v, options.messages, formats ?? FORMATS);
    return v;
  };
  if (!(file instanceof Blob)) return done('unsupported', 'not a file');
  if (file.size === 0) return done('empty');
  if (options.maxFileBytes > 0 && file.size > options.maxFileBytes) {
    return done('too-large', `${formatBytes(file.size)}; the limit is ${formatBytes(options.maxFileBytes)}`);
  }
  let head;
  try {
    head = new Uint8Array(await file.slice(0, 256).arrayBuffer());
  } catch (err) {
    return done('decode', `the file could not be read: ${err.message}`);
  }
  v.format = sniffFormat(head);
  if (formats && !formats.includes(v.format)) return done('unsupported');
  let detector;
  try {
    detector = await options.detector;
    if (!detector?.classify) throw new Error('no detector: pass { detector: createDetector(...) }');
  } catch (err) {
    return done('engine', err.message);
  }
  let r;
  try {
    r = await detector.classify(file);
  } catch (err) {
    switch (err?.code) {
      case 'decode':
        return done('decode', err.message);
      case 'unsupported':
        // The shim reports formats this browser cannot decode (HEIC outside
        // Safari, AVIF in old browsers) as unsupported.
        if (v.format === 'heic' || v.format === 'avif') v.browserCannot = true;
        return done('unsupported', err.message);
      case 'empty':
      case 'too-large':
      case 'too-many-frames':
        return done(err.code, err.message);
      default:
        return done('engine', err?.message ?? String(err));
    }
  }
  Object.assign(v, { result: r, verdict: r.verdict, top: r.top, nsfwScore: r.nsfwScore, probabilities: r.probabilities });
  return r.nsfw ? done('nsfw', rules(r)) : done(null);
}

/** checkFiles checks files (a FileList or any iterable) and resolves to one verdict per file, in order. */
export function checkFiles(files, options = {}) {
  return Promise.all(Array.from(files ?? [], (f) => checkFile(f, options)));
}

let ids = 0;

// forms maps a form to its controller: the check of every file the form
// sends, whichever input holds it.
const forms = new WeakMap();

// isFileInput tells the inputs whose files a form sends.
function isFileInput(el) {
  return el instanceof HTMLInputElement && el.type === 'file' && el.name !== '' && !el.disabled;
}

// formController guards a form's submissions. It keeps one verdict per
// File object (a File is immutable, so a verdict stays true for it), and:
//   - on submit, checks the files every file input holds at that moment,
//     holding the submit while any is being checked and refusing it when
//     any is rejected;
//   - on formdata (fired by every submission, form.submit() included, and
//     by new FormData(form)), takes out of the data every file that has not
//     been checked and accepted: that event cannot wait for a check.
function formController(form, opts) {
  let c = forms.get(form);
  if (c) return c;
  const verdicts = new WeakMap(); // File -> Promise<verdict>
  const settled = new WeakMap(); // File -> verdict
  const guards = new Set();
  let held = null; // {submitter, files} of a submit held while checking
  c = {
    opts, guards,
    // check returns the (cached) verdict for a file.
    check(file) {
      let p = verdicts.get(file);
      if (!p) {
        p = checkFile(file, { ...c.opts, field: c.fieldOf(file) }).then((v) => {
          settled.set(file, v);
          return v;
        });
        verdicts.set(file, p);
      }
      return p;
    },
    settled: (file) => settled.get(file),
    // passes reports whether a file may be sent: checked and accepted, or
    // not checkable here when allowUnchecked says so.
    passes(file) {
      const v = settled.get(file);
      return Boolean(v && (v.accepted || (v.reason === 'engine' && c.opts.allowUnchecked)));
    },
    fieldOf(file) {
      for (const el of form.elements) if (isFileInput(el) && Array.from(el.files ?? []).includes(file)) return el.name;
      return '';
    },
    guarded(name) {
      return !c.opts.fields?.length || c.opts.fields.includes(name);
    },
    // files lists the files the form would send now, by input.
    files() {
      const out = [];
      for (const el of form.elements) {
        if (isFileInput(el) && c.guarded(el.name)) for (const f of el.files ?? []) out.push({ input: el, file: f });
      }
      return out;
    },
    cancelHeld() { held = null; },
    // hold checks the files the form would send now, and submits the form
    // once all pass (submitWhenReady), unless the files change meanwhile.
    hold(submitter) {
      const files = c.files().map((x) => x.file);
      if (c.opts.submitWhenReady) held = { submitter, files };
      c.announce((c.opts.messages?.waiting ?? MESSAGES.waiting)());
      Promise.all(files.map((f) => c.check(f))).then(() => {
        const h = held;
        if (!h || h.files !== files) return;
        held = null;
        const now = c.files().map((x) => x.file);
        if (now.length !== files.length || now.some((f, i) => f !== files[i]) || !now.every((f) => c.passes(f))) return;
        // Let the inputs' own state settle (their checks resolve the same
        // promises) before submitting.
        setTimeout(() => {
          const sub = h.submitter?.isConnected && h.submitter.form === form ? h.submitter : undefined;
          form.requestSubmit(sub);
        });
      });
    },
    announce(text) {
      for (const g of guards) return g.announce(text);
      return c.opts.status && (c.opts.status.textContent = text);
    },
    dispose(guard) {
      guards.delete(guard);
      if (guards.size === 0) {
        for (const fn of cleanup) fn();
        forms.delete(form);
      }
    },
  };
  const cleanup = [];
  const listen = (type, fn, capture) => {
    form.addEventListener(type, fn, capture);
    cleanup.push(() => form.removeEventListener(type, fn, capture));
  };

  function onSubmit(e) {
    for (const g of guards) g.refreshIfStale(); // files set from script, without a change event
    const entries = c.files();
    const pending = entries.filter(({ file }) => !c.settled(file));
    const bad = entries.filter(({ file }) => c.settled(file) && !c.passes(file));
    const refused = [...guards].find((g) => g.blocking()); // too many files, say
    if (!pending.length && !bad.length && !refused) return; // every file checked and accepted
    e.preventDefault();
    e.stopImmediatePropagation();
    if (bad.length || refused) {
      held = null;
      const input = refused?.input ?? bad[0].input;
      c.announce(input.validationMessage || (bad[0] ? c.settled(bad[0].file).message : ''));
      input.focus();
      return;
    }
    c.hold(e.submitter);
  }

  function onFormData(e) {
    const fd = e.formData;
    const out = [];
    for (const [name, value] of fd.entries()) {
      if (!(value instanceof File) || !c.guarded(name)) continue;
      if (value.size === 0 && value.name === '') continue; // an input without files
      if (!c.passes(value)) out.push(value);
    }
    if (!out.length) return;
    const names = new Set();
    for (const [name, value] of fd.entries()) if (out.includes(value)) names.add(name);
    for (const name of names) {
      const keep = fd.getAll(name).filter((v) => !out.includes(v));
      fd.delete(name);
      for (const v of keep) {
        if (v instanceof File) fd.append(name, v, v.name);
        else fd.append(name, v);
      }
    }
    for (const f of out) c.check(f); // so the page can show why, and send them once checked
    c.announce((c.opts.messages?.notSent ?? MESSAGES.notSent)({ total: out.length }));
    form.dispatchEvent(new CustomEvent('prefilter-removed', { detail: { files: out } }));
  }

  // Inputs without a guard of their own (added later, say) are checked as
  // soon as they get files, so that a submit need not wait.
  function onChange(e) {
    const el = e.target;
    if (!isFileInput(el) || !c.guarded(el.name)) return;
    held = null; // a new choice cancels a held submit: it was for other files
    for (const f of el.files ?? []) c.check(f);
  }

  listen('submit', onSubmit, true);
  listen('formdata', onFormData, false);
  listen('change', onChange, true);
  forms.set(form, c);
  return c;
}

/**
 * guardFileInput guards a form's <input type="file">: every file chosen
 * or dropped is checked on this device, and the form cannot send a file
 * until it has been checked and accepted. Each file is listed with its
 * outcome (a rejected one with why, and a Remove button); summaries are
 * announced in an aria-live region. Options, besides checkFile's:
 *   status        element for announcements (default: a <p role="status"> after the input)
 *   list          element for the per-file list (default: a <ul> after the status)
 *   dropZone      element that accepts dropped files (default: none but the input itself)
 *   maxFiles      most files at once; maxBodyBytes: most bytes at once
 *   fields        the names of the file fields the server checks (ClientConfig.fields; default all)
 *   submitWhenReady  a submit during the check is held and sent when every file passes (default true)
 *   allowUnchecked   let the form through when the engine cannot run here (default false)
 * The guard covers the whole form (see formController): the files every
 * file input holds at submission, whatever set them, and the formdata of
 * form.submit() and new FormData(form).
 * Returns {state, verdicts, ready, checkFiles, dispose}; the input also
 * fires a 'prefilter' CustomEvent with {state, verdicts} on each change,
 * and the form a 'prefilter-removed' one with {files} when files are left
 * out of a submission.
 * States: 'empty', 'checking', 'accepted', 'rejected', 'unchecked'.
 */
export function guardFileInput(input, options = {}) {
  if (!(input instanceof HTMLInputElement) || input.type !== 'file') throw new TypeError('guardFileInput needs an <input type="file">');
  const opts = { submitWhenReady: true, allowUnchecked: false, field: input.name, ...options };
  const msg = { ...MESSAGES, ...options.messages };
  const ctl = input.form ? formController(input.form, opts) : null;
  const check = (file) => (ctl ? ctl.check(file) : checkFile(file, opts));
  const cleanup = [];
  const listen = (target, type, fn, capture = false) => {
    target.addEventListener(type, fn, capture);
    cleanup.push(() => target.removeEventListener(type, fn, capture));
  };
  const make = (tag, cls, attrs = {}) => {
    const el = document.createElement(tag);
    el.className = cls;
    for (const [k, val] of Object.entries(attrs)) el.setAttribute(k, val);
    return el;
  };
  const n = ++ids;
  const created = [];
  let status = opts.status;
  if (!status) {
    status = make('p', 'prefilter-status', { role: 'status', 'aria-live': 'polite' });
    input.after(status);
    created.push(status);
  }
  let list = opts.list;
  if (!list) {
    list = make('ul', 'prefilter-files');
    status.after(list);
    created.push(list);
  }
  status.id ||= `prefilter-status-${n}`;
  list.id ||= `prefilter-files-${n}`;
  const describedBy = input.getAttribute('aria-describedby');
  input.setAttribute('aria-describedby', [describedBy, status.id, list.id].filter(Boolean).join(' '));

  const guard = { state: 'empty', verdicts: [], ready: Promise.resolve([]), checkFiles: (files) => checkFiles(files, opts), dispose };
  let generation = 0;
  let checked = []; // the files of the last check, to notice files set without a change event
  let lastAnnounced = '';

  function announce(text) {
    // Re-announce an identical message: screen readers skip unchanged text.
    status.textContent = text === lastAnnounced ? `${text}\u00a0` : text;
    lastAnnounced = status.textContent;
  }

  function setState(state, verdicts, formMessage = '') {
    guard.state = state;
    guard.verdicts = verdicts;
    const blocking = state === 'rejected' || (state === 'unchecked' && !opts.allowUnchecked);
    // A rejected choice makes the input invalid, so the browser itself
    // refuses to submit (and says why). While checking it stays valid, so
    // that the form's submit handler sees the submit and can hold it.
    input.setCustomValidity(blocking ? formMessage || summary(verdicts) : '');
    if (blocking) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
    list.dataset.state = state;
    input.dispatchEvent(new CustomEvent('prefilter', { detail: { state, verdicts } }));
  }

  function summary(verdicts) {
    const total = verdicts.length;
    const bad = verdicts.filter((v) => !v.accepted);
    if (!bad.length) return msg.ready({ total });
    return [msg.rejected({ total, rejected: bad.length }), ...bad.map((v) => v.message)].join(' ');
  }

  function render(files, verdicts) {
    const items = files.map((file, i) => {
      const v = verdicts[i];
      const li = make('li', 'prefilter-file');
      li.dataset.state = v ? (v.accepted ? 'accepted' : 'rejected') : 'checking';
      if (v?.reason) li.dataset.reason = v.reason;
      const name = make('span', 'prefilter-name');
      name.textContent = file.name || 'pasted image';
      const text = make('span', 'prefilter-message');
      text.textContent = v ? v.message : msg.checking({ filename: file.name });
      li.append(name, text);
      if (v && !v.accepted) {
        const remove = make('button', 'prefilter-remove', { type: 'button', 'aria-label': `Remove ${quote(file.name)}` });
        remove.textContent = 'Remove';
        remove.addEventListener('click', () => removeFile(file));
        li.append(remove);
      }
      return li;
    });
    list.replaceChildren(...items);
  }

  function removeFile(file) {
    const dt = new DataTransfer();
    for (const f of input.files) if (f !== file) dt.items.add(f);
    input.files = dt.files;
    input.dispatchEvent(new Event('change', { bubbles: true }));
    input.focus();
  }

  async function onChange() {
    const gen = ++generation;
    ctl?.cancelHeld(); // a new choice cancels a held submit: it was for other files
    const files = Array.from(input.files ?? []);
    checked = files;
    if (!files.length) {
      list.replaceChildren();
      announce(msg.cleared());
      setState('empty', []);
      guard.ready = Promise.resolve([]);
      return;
    }
    const total = files.length;
    const bytes = files.reduce((s, f) => s + f.size, 0);
    let formMessage = '';
    if (opts.maxFiles > 0 && total > opts.maxFiles) formMessage = msg.tooMany({ total, maxFiles: opts.maxFiles });
    else if (opts.maxBodyBytes > 0 && bytes > opts.maxBodyBytes) formMessage = msg.tooMuch({ bytes, maxBytes: opts.maxBodyBytes });
    if (formMessage) {
      list.replaceChildren();
      announce(formMessage);
      setState('rejected', [], formMessage);
      guard.ready = Promise.resolve([]);
      return;
    }
    const verdicts = new Array(total);
    render(files, verdicts);
    setState('checking', []);
    announce(msg.progress({ total }));
    const all = files.map((file, i) => check(file).then((v) => {
      if (gen === generation) {
        verdicts[i] = v;
        render(files, verdicts); // each file's outcome shows as soon as it is known
      }
      return v;
    }));
    guard.ready = Promise.all(all);
    const results = await guard.ready;
    if (gen !== generation) return;
    const engineDown = results.some((v) => v.reason === 'engine');
    if (engineDown) {
      // The check could not run here. Only the other rejections are the
      // user's to fix; the engine's failure is ours.
      const others = results.filter((v) => !v.accepted && v.reason !== 'engine');
      if (others.length) {
        announce(summary(others));
        setState('rejected', results, summary(others));
      } else {
        announce(opts.allowUnchecked ? msg.unchecked() : results.find((v) => v.reason === 'engine').message);
        setState('unchecked', results, results[0].message);
      }
    } else if (results.every((v) => v.accepted)) {
      announce(msg.ready({ total }));
      setState('accepted', results);
    } else {
      announce(summary(results));
      setState('rejected', results);
    }
  }

  // stale reports whether the input's files changed without a change
  // event (input.files set from script, as a paste handler does).
  function stale() {
    const now = Array.from(input.files ?? []);
    return now.length !== checked.length || now.some((f, i) => f !== checked[i]);
  }

  function onInvalid() {
    // The browser refused the submit because of our custom validity. If
    // the files changed since (set from script), check the new ones: the
    // refusal was about the old.
    if (stale()) {
      onChange();
      ctl?.hold(undefined); // and send them once they pass, as the submit asked
      return;
    }
    // Say it in the live region too, where screen readers hear it.
    announce(input.validationMessage);
  }

  function setFiles(files) {
    let chosen = Array.from(files);
    if (!chosen.length || input.disabled) return;
    if (!input.multiple && chosen.length > 1) {
      chosen = chosen.slice(0, 1);
      announce(msg.oneOnly({ total: files.length }));
    }
    const dt = new DataTransfer();
    for (const f of chosen) dt.items.add(f);
    input.files = dt.files;
    input.dispatchEvent(new Event('input', { bubbles: true }));
    input.dispatchEvent(new Event('change', { bubbles: true }));
  }

  const member = {
    input, announce,
    refreshIfStale: () => stale() && onChange(),
    blocking: () => !stale() && (guard.state === 'rejected' || (guard.state === 'unchecked' && !opts.allowUnchecked)),
  };
  ctl?.guards.add(member);
  listen(input, 'change', onChange);
  listen(input, 'invalid', onInvalid);
  const zone = opts.dropZone;
  if (zone) {
    const over = (e) => {
      if (!e.dataTransfer?.types?.includes('Files')) return;
      e.preventDefault(); // without this the browser would open the file, leaving the page
      e.dataTransfer.dropEffect = 'copy';
      zone.classList.add('prefilter-over');
    };
    listen(zone, 'dragenter', over);
    listen(zone, 'dragover', over);
    listen(zone, 'dragleave', (e) => {
      if (!zone.contains(e.relatedTarget)) zone.classList.remove('prefilter-over');
    });
    listen(zone, 'drop', (e) => {
      zone.classList.remove('prefilter-over');
      if (!e.dataTransfer?.files?.length) return;
      e.preventDefault();
      setFiles(e.dataTransfer.files);
    });
  }

  function dispose() {
    for (const fn of cleanup) fn();
    cleanup.length = 0;
    generation++;
    ctl?.dispose(member);
    input.setCustomValidity('');
    input.removeAttribute('aria-invalid');
    if (describedBy === null) input.removeAttribute('aria-describedby');
    else input.setAttribute('aria-describedby', describedBy);
    for (const el of created) el.remove();
  }

  if (input.files?.length) onChange(); // files the browser restored (back button)
  return guard;
}

/**
 * guardForm guards a form's submissions without a file input of its own
 * to watch (guardFileInput does this for the input's form): every file
 * input's files are checked when chosen and again at submission, and the
 * formdata of any submission keeps only files checked and accepted.
 * options are guardFileInput's (status: where to announce). Returns
 * {dispose}.
 */
export function guardForm(form, options = {}) {
  if (!(form instanceof HTMLFormElement)) throw new TypeError('guardForm needs a <form>');
  const ctl = formController(form, { submitWhenReady: true, allowUnchecked: false, ...options });
  const member = {
    input: null,
    announce: (text) => options.status && (options.status.textContent = text),
    refreshIfStale: () => {},
    blocking: () => false,
  };
  ctl.guards.add(member);
  return { dispose: () => ctl.dispose(member) };
}
