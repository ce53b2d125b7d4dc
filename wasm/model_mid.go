//go:build nsfw_mid

package main

import "github.com/nsfw-go/nsfw"

// loadModel is MobileNetV2Mid (make wasm MODEL=mid).
var loadModel = nsfw.Mid
