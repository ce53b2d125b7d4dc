// Package mobilenetv2mid embeds nsfwjs 4.4.0's MobileNetV2Mid model
// (TF-Hub mobilenet_v2_140_224, width 1.4, about 93% accurate per nsfwjs,
// about twice the compute of the default model), converted to the .nsfw
// format (see ../SPEC.md). The weights are MIT licensed,
// Copyright (c) 2019 Infinite Red, Inc.; the file's metadata holds the
// full license text and the npm package integrity it was made from.
//
// It is a separate package so that programs that only use the default model
// do not carry these 4.3 MB.
package mobilenetv2mid

import _ "embed"

//go:embed mobilenet_v2_mid.nsfw
var file []byte

// Bytes returns the model file. The slice is shared: do not modify it.
func Bytes() []byte { return file }
