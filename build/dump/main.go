// Command dump writes, for each image file, the pixels Go decodes and the
// model input Go's preprocessing makes from them, for the reference tools
// in build/reference to feed to nsfwjs/TF.js:
//
//	go run ./build/dump -out DIR FILE...
//
// DIR/index.json lists {name, file, format, width, height, rgb, input};
// NAME.rgb is the first frame as packed RGB (alpha dropped, not
// premultiplied) and NAME.in.f32 the 224×224×3 float32 little-endian input.
package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/nsfw-go/nsfw/internal/imageio"
	"github.com/nsfw-go/nsfw/internal/preprocess"
)

type entry struct {
	Name   string `json:"name"`
	File   string `json:"file"`
	Format string `json:"format"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	RGB    string `json:"rgb"`
	Input  string `json:"input"`
}

func main() {
	out := flag.String("out", "", "output directory (required)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: go run ./build/dump -out DIR FILE...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fatal(err)
	}
	var index []entry
	tab := preprocess.NewTable(0, 1)
	for _, path := range flag.Args() {
		dec, err := imageio.DecodeFile(path, imageio.Limits{})
		if err != nil {
			fatal(fmt.Errorf("%s: %w", path, err))
		}
		src, err := preprocess.FromImage(dec.Frames[0])
		if err != nil {
			fatal(fmt.Errorf("%s: %w", path, err))
		}
		w, h := src.Size()
		rgb := make([]byte, w*h*3)
		if err := src.ReadRGB(rgb); err != nil {
			fatal(err)
		}
		in := make([]float32, 224*224*3)
		if _, err := preprocess.Resize(in, 224, 224, &src, tab, 0, &preprocess.Taps{}); err != nil {
			fatal(err)
		}
		raw := make([]byte, 4*len(in))
		for i, v := range in {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
		}
		name := filepath.Base(path)
		e := entry{Name: name, File: filepath.ToSlash(path), Format: dec.Format, Width: w, Height: h, RGB: name + ".rgb", Input: name + ".in.f32"}
		if err := os.WriteFile(filepath.Join(*out, e.RGB), rgb, 0o644); err != nil {
			fatal(err)
		}
		if err := os.WriteFile(filepath.Join(*out, e.Input), raw, 0o644); err != nil {
			fatal(err)
		}
		index = append(index, e)
	}
	b, err := json.MarshalIndent(index, "", "  ")
	if err != nil {
		fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*out, "index.json"), append(b, '\n'), 0o644); err != nil {
		fatal(err)
	}
	fmt.Fprintf(os.Stderr, "dumped %d files to %s\n", len(index), *out)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "dump:", err)
	os.Exit(1)
}
