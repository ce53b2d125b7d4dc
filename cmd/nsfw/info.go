package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

const infoHelp = `Usage: nsfw info [--model M] [--json]

Describes a model: name, where its weights come from, their license, the
classes, the compute per image and the memory per concurrent inference.

Flags:
`

func runInfo(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("info", infoHelp, stderr)
	model := fs.String("model", "default", "model: default, mid, or a .nsfw file")
	asJSON := fs.Bool("json", false, "print JSON")
	rest, err := parseInterleaved(fs, args)
	if helpRequested(err) {
		return exitOK
	}
	if err != nil || len(rest) > 0 {
		if err == nil {
			fmt.Fprintf(stderr, "nsfw info: unexpected arguments %v\n", rest)
		}
		return exitUsage
	}
	det, err := loadModel(*model)
	if err != nil {
		fmt.Fprintln(stderr, "nsfw info:", err)
		return exitUsage
	}
	in := det.Info()
	if *asJSON {
		b, _ := json.MarshalIndent(in, "", "  ")
		fmt.Fprintf(stdout, "%s\n", b)
		return exitOK
	}
	fmt.Fprintf(stdout, "name:        %s\n", in.Name)
	fmt.Fprintf(stdout, "description: %s\n", in.Description)
	fmt.Fprintf(stdout, "source:      %s\n", in.Source)
	fmt.Fprintf(stdout, "license:     %s (%s)\n", in.License, in.Copyright)
	fmt.Fprintf(stdout, "classes:     %s\n", strings.Join(in.Classes, ", "))
	fmt.Fprintf(stdout, "input:       %dx%d RGB, bilinear resize with aligned corners\n", in.InputWidth, in.InputHeight)
	fmt.Fprintf(stdout, "compute:     %.0f M multiply-adds per image\n", float64(in.MACs)/1e6)
	fmt.Fprintf(stdout, "memory:      %.1f MB arena per concurrent inference\n", float64(in.ArenaBytes)/1e6)
	fmt.Fprintf(stdout, "kernels:     %s\n", in.Kernels)
	return exitOK
}
