// Package imageio decodes untrusted image files (JPEG, PNG, GIF, WebP, BMP)
// into frames ready for classification.
//
// Its inputs come from the CLI and from an HTTP upload middleware, so every
// file is treated as hostile: decoding never panics (panics inside the
// standard and x/image decoders are recovered and reported as ErrCorrupt),
// never reads more than Limits.MaxBytes, checks the declared dimensions
// against Limits.MaxPixels before allocating any pixel buffer, and bounds the
// work spent on animations and multi-scan JPEGs with Limits.MaxTotalPixels.
// Decoding works on an in-memory copy of the file, so once the bytes are read
// it cannot block on I/O; timeouts on slow readers are the caller's business.
//
// What callers see mirrors what a browser shows by default: JPEG EXIF
// orientation is applied (CSS image-orientation: from-image), and GIF and
// APNG animations are composited frame by frame onto a transparent canvas
// with their disposal and blending rules, of which up to Limits.MaxFrames
// evenly spaced snapshots are returned. (APNG matters for a classifier:
// browsers play the frames, which need not include the static default
// image that a plain PNG decoder returns.) Still images are returned in the decoder's own
// pixel type (*image.YCbCr, *image.Paletted, *image.NRGBA, ...) so that the
// next stage can use its fast paths; only orientation changes the layout.
//
// Peak memory is bounded by the limits. As a guide, a still image costs the
// decoder between 1 and 8 bytes per pixel (16-bit PNG), and a progressive
// JPEG up to about 16 bytes per pixel while decoding; at the default 50
// megapixels that is at most about 800 MB, so WebAssembly hosts may want a
// smaller MaxPixels. Errors wrap one of ErrUnsupported, ErrTooLarge, ErrEmpty
// or ErrCorrupt, for errors.Is.
package imageio
