//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

// main explains what this package is when built for the host by mistake;
// the boundary logic itself is tested natively through boundary.go.
func main() {
	fmt.Fprintln(os.Stderr, "wasm: this is the WebAssembly build of nsfw; build it with `make wasm` (GOOS=js GOARCH=wasm)")
	os.Exit(2)
}
