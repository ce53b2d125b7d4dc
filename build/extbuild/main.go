// Command extbuild assembles the browser extension (make extension):
//
//	go run ./build/extbuild -out dist/extension -zip dist/nsfw-extension.zip
//
// Load the folder in Chromium at chrome://extensions ("Load unpacked", with
// developer mode on); the zip is the same files for a store.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/nsfw-go/nsfw/internal/extbuild"
)

func main() {
	o := extbuild.Options{Root: "."}
	flag.StringVar(&o.Out, "out", "dist/extension", "the unpacked extension folder (replaced)")
	flag.StringVar(&o.Zip, "zip", "dist/nsfw-extension.zip", "the zip to write too; empty for none")
	flag.StringVar(&o.Web, "web", "", "use this already built web folder (make web) instead of building the engine")
	flag.StringVar(&o.Model, "model", "default", "embedded model when building the engine: default or mid")
	flag.Parse()
	if err := extbuild.Build(o); err != nil {
		fmt.Fprintln(os.Stderr, "extbuild:", err)
		os.Exit(1)
	}
	fmt.Println("built", o.Out)
	if o.Zip != "" {
		fmt.Println("built", o.Zip)
	}
}
