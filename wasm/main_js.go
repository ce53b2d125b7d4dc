//go:build js && wasm

package main

import "unsafe"

var b boundary

func ptr(s []byte) unsafe.Pointer {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Pointer(unsafe.SliceData(s))
}

//go:wasmexport nsfw_init
func nsfwInit() int32 { return b.init(loadModel) }

//go:wasmexport nsfw_buffer
func nsfwBuffer(n int32) unsafe.Pointer { return ptr(b.buffer(n)) }

//go:wasmexport nsfw_classify
func nsfwClassify(w, h, stride, format int32) int32 { return b.classify(w, h, stride, format) }

//go:wasmexport nsfw_result
func nsfwResult() unsafe.Pointer { return unsafe.Pointer(&b.result[0]) }

//go:wasmexport nsfw_text
func nsfwText(n int32) unsafe.Pointer {
	t := b.textBuffer(n)
	if cap(t) == 0 {
		b.text = make([]byte, 0, 256)
		t = b.text
	}
	return unsafe.Pointer(unsafe.SliceData(t[:cap(t)]))
}

//go:wasmexport nsfw_set_policy
func nsfwSetPolicy(n int32) int32 { return b.setPolicy(n) }

//go:wasmexport nsfw_info
func nsfwInfo() int32 { return b.info() }

//go:wasmexport nsfw_taps
func nsfwTaps(w, h int32) int32 { return b.planTaps(w, h) }

//go:wasmexport nsfw_taps_info
func nsfwTapsInfo() unsafe.Pointer {
	b.tapsInfo[3] = int32(uintptr(unsafe.Pointer(unsafe.SliceData(b.taps.Rows))))
	b.tapsInfo[4] = int32(uintptr(unsafe.Pointer(unsafe.SliceData(b.taps.Cols))))
	return unsafe.Pointer(&b.tapsInfo[0])
}

//go:wasmexport nsfw_classify_taps
func nsfwClassifyTaps(stride int32) int32 { return b.classifyTaps(stride) }

// main keeps the runtime alive for the exports; JS calls nsfw_init next.
func main() { select {} }
