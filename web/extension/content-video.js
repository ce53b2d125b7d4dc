// content-video.js: the content script's part for <video>: its poster and
// its frames. Loaded before content.js, which calls createVideoJudge.
//
// Frames are composited off the main thread, so a video stays covered
// until its first frame is judged (or, while nothing plays, its poster);
// frames sampled while it plays can then only cover it again. Sampling
// stops while the video is out of view, and for a looping video once it
// has played through, since its frames then repeat.
'use strict';

// createVideoJudge returns considerVideo(video, force). The page's judge
// gives it: isActive(), setState(el, state), isRevealed(key),
// classifyURL(url), request(message), toBase64(bytes), reconsider(el).
function createVideoJudge(judge) {
  const FRAME_EVERY_MS = 1000; // a playing video is sampled this often
  const FRAME_SIDE = 224; // frames are read at the model's input size
  const RETRY_MS = 100; // when a frame is not decoded yet
  const videos = new WeakMap(); // <video> -> its state below
  let serial = 0;

  const views = new IntersectionObserver((entries) => {
    for (const e of entries) {
      const v = videos.get(e.target);
      if (v) v.visible = e.isIntersecting;
    }
  }, { rootMargin: '200px' });

  function considerVideo(video, force) {
    let v = videos.get(video);
    if (!v) {
      v = { key: '', poster: 'none', frame: 'none', serial: 0, sampling: false, lastSample: 0, lastTime: 0, looped: false, visible: true };
      videos.set(video, v);
      listen(video, v);
      views.observe(video);
    }
    const key = `${video.poster} ${video.currentSrc || video.src}`;
    if (!force && key === v.key) return v.key;
    Object.assign(v, { key, serial: ++serial, poster: video.poster ? 'pending' : 'none', frame: 'none', looped: false, lastTime: 0 });
    update(video, v);
    if (video.poster) {
      const mine = v.serial;
      judge.classifyURL(video.poster).then((r) => r.verdict, (err) => {
        video.setAttribute('data-nsfw-error', err.message);
        return 'error';
      }).then((verdict) => {
        if (v.serial !== mine) return;
        v.poster = verdict === 'skipped' ? 'safe' : verdict;
        update(video, v);
      });
    }
    if (video.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA) sample(video, v);
    return v.key;
  }

  function listen(video, v) {
    video.addEventListener('loadeddata', () => sample(video, v));
    video.addEventListener('play', () => {
      update(video, v); // about to show frames: covered until one is judged
      sample(video, v);
    });
    video.addEventListener('seeked', () => {
      if (!v.looped) sample(video, v); // a loop's restart seeks too
    });
    video.addEventListener('timeupdate', () => {
      if (video.loop && video.currentTime < v.lastTime) v.looped = true;
      v.lastTime = video.currentTime;
      if (!video.paused && !v.looped && v.visible && performance.now() - v.lastSample >= FRAME_EVERY_MS) sample(video, v);
    });
    video.addEventListener('emptied', () => judge.reconsider(video));
  }

  function update(video, v) {
    if (!judge.isActive() || video.getAttribute('data-nsfw-state') === 'revealed') return;
    const parts = [v.poster, v.frame];
    const showsFrames = !video.poster || video.autoplay || !video.paused || video.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA;
    let state = 'safe';
    if (parts.includes('nsfw')) state = 'nsfw';
    else if (parts.includes('error')) state = 'error';
    else if (parts.includes('pending') || (v.frame === 'none' && showsFrames)) state = 'pending';
    if (state === 'nsfw' && judge.isRevealed(v.key)) state = 'revealed';
    judge.setState(video, state);
  }

  async function sample(video, v) {
    if (!judge.isActive() || v.sampling || video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA) return;
    if (video.getAttribute('data-nsfw-state') === 'revealed') return;
    v.sampling = true;
    v.lastSample = performance.now();
    const mine = v.serial;
    const first = v.frame === 'none';
    if (first) v.frame = 'pending';
    let verdict;
    try {
      verdict = (await classifyFrame(video)).verdict;
    } catch (err) {
      verdict = err.code === 'no-frame' ? 'none' : 'error';
      if (verdict === 'error') video.setAttribute('data-nsfw-error', err.message);
    } finally {
      v.sampling = false;
    }
    if (v.serial !== mine) return;
    if (verdict === 'none') {
      // Nothing drawn yet (the frame is still decoding): look again soon.
      if (first) v.frame = 'none';
      setTimeout(() => sample(video, v), RETRY_MS);
      return;
    }
    // A later frame that fails to classify does not undo a safe first one;
    // an NSFW frame covers the video for good (until clicked).
    if (first || verdict === 'nsfw') v.frame = v.frame === 'nsfw' ? 'nsfw' : verdict;
    update(video, v);
  }

  // classifyFrame reads the current frame at the model's input size. A
  // cross-origin video without CORS taints the canvas: the engine then
  // loads the same URL itself and seeks to the same time.
  function classifyFrame(video) {
    const canvas = new OffscreenCanvas(FRAME_SIDE, FRAME_SIDE);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    ctx.drawImage(video, 0, 0, FRAME_SIDE, FRAME_SIDE);
    let data;
    try {
      data = ctx.getImageData(0, 0, FRAME_SIDE, FRAME_SIDE).data;
    } catch {
      const url = video.currentSrc || video.src;
      if (!/^https?:/.test(url)) return Promise.reject(new Error(`the frames of ${url.slice(0, 80)} cannot be read`));
      return judge.request({ type: 'classify-frame', url, time: video.currentTime });
    }
    if (isBlank(data)) return Promise.reject(Object.assign(new Error('no frame yet'), { code: 'no-frame' }));
    return judge.request({ type: 'classify', pixels: { data: judge.toBase64(data), width: FRAME_SIDE, height: FRAME_SIDE } });
  }

  // isBlank says whether nothing was drawn: every pixel transparent. (A
  // decoded frame, even a black one, is opaque.)
  function isBlank(rgba) {
    for (let i = 3; i < rgba.length; i += 4) if (rgba[i] !== 0) return false;
    return true;
  }

  return considerVideo;
}
