// Command webbuild assembles the web folder (make web):
//
//	go run ./build/webbuild -out dist/web [-model default|mid] [-no-simd]
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/nsfw-go/nsfw/internal/webbuild"
	"github.com/nsfw-go/nsfw/internal/webserve"
)

func main() {
	var o webbuild.Options
	flag.StringVar(&o.Out, "out", "dist/web", "output folder")
	flag.StringVar(&o.Model, "model", "default", "embedded model: default or mid")
	flag.BoolVar(&o.NoSIMD, "no-simd", false, "leave out the SIMD kernel module")
	precompress := flag.Bool("precompress", true, "write .br and .gz variants for the server")
	flag.Parse()
	o.Root = "."
	if err := webbuild.Build(o); err != nil {
		fmt.Fprintln(os.Stderr, "webbuild:", err)
		os.Exit(1)
	}
	if *precompress {
		if err := webserve.Precompress(o.Out); err != nil {
			fmt.Fprintln(os.Stderr, "webbuild:", err)
			os.Exit(1)
		}
	}
	fmt.Println("built", o.Out)
}
