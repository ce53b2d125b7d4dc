//go:build !nsfw_mid

package main

import "github.com/nsfw-go/nsfw"

// loadModel is the embedded default model; build with -tags nsfw_mid
// (make wasm MODEL=mid) for MobileNetV2Mid instead.
var loadModel = nsfw.Default
