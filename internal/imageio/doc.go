// Package imageio decodes untrusted image files (JPEG, PNG, GIF, WebP, BMP)
// into frames ready for classification.
//
// Its inputs come from the CLI and from an HTTP upload middleware, so every
// file is treated as hostile: decoding never panics (panics inside the
// standard and x/image decoders are recovered and reported as ErrCorrupt),
// never reads more than Limits.MaxBytes, checks the declared dimensions
// against Limits.MaxPixels and the estimated memory of decoding against
// Limits.MaxDecodeBytes before allocating any pixel buffer, and bounds the
// work spent on animations and multi-scan JPEGs with Limits.MaxTotalPixels.
// Decoding works on an in-memory copy of the file, so once the bytes are read
// it cannot block on I/O; timeouts on slow readers are the caller's business.
//
// What callers see is what a browser shows by default: JPEG EXIF
// orientation is applied (CSS image-orientation: from-image); PNG colour
// chunks (gAMA, cHRM, sRGB, iCCP, cICP) are applied as Chromium applies
// them, and colour that cannot be applied exactly is reported unsupported
// (colour.go); GIF and APNG animations are composited frame by frame onto
// a transparent canvas with their disposal and blending rules. Still
// images are returned in the decoder's own pixel type (*image.YCbCr,
// *image.Paletted, *image.NRGBA, ...) so that the next stage can use its
// fast paths; only orientation and colour conversion change them.
//
// There are two ways to decode an animation. Decode samples up to
// Limits.MaxFrames snapshots, evenly spread: cheap, but content shown only
// between the samples is never seen. A FrameReader yields every frame in
// turn, holding one canvas, skipping frames whose canvas is byte-identical
// to one already yielded; NewFrameReader scans the frame structure first
// and refuses, with ErrTooManyFrames, an animation over
// Limits.MaxFrameCount frames or over the work budget before decoding any
// frame. Both also return an APNG's default image when it is not a frame
// of its animation (browsers never show it; image/png, thumbnailers and
// viewers without APNG support show only it), at index -1.
//
// Peak memory is bounded by the limits: Info.Memory estimates it from the
// header (1 to 8 bytes per pixel by type and depth, twice that for an
// interlaced PNG, 5 times the samples of a progressive JPEG, canvas and
// saved region for animations), and TestMemoryEstimate checks it against
// what decoding really allocates. Errors wrap one of ErrUnsupported,
// ErrTooLarge, ErrEmpty, ErrCorrupt or ErrTooManyFrames, for errors.Is.
package imageio
