// Package mobilenetv2 embeds nsfwjs 4.4.0's default model, MobileNetV2
// (width 1.0, about 90% accurate per nsfwjs), converted to the .nsfw
// format (see ../SPEC.md). The weights are MIT licensed,
// Copyright (c) 2019 Infinite Red, Inc.; the file's metadata holds the
// full license text and the npm package integrity it was made from.
//
// Regenerate with `make model`; a test checks that conversion reproduces
// this file byte for byte.
package mobilenetv2

import _ "embed"

//go:embed mobilenet_v2.nsfw
var file []byte

// Bytes returns the model file. The slice is shared: do not modify it.
func Bytes() []byte { return file }
