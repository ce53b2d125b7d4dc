package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

const infoHelp = `Usage: nsfw info [--model M] [--json] [--license]

Describes a model: name, where its weights come from, their license, the
classes, the compute per image and the memory per concurrent inference.
--license prints the weights' full license text instead, which travels in
the model file.

Flags:
`

// infoJSON is info --json's output, with classify --json's snake_case keys.
type infoJSON struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Source      string   `json:"source"`
	License     string   `json:"license"`
	Copyright   string   `json:"copyright"`
	LicenseText string   `json:"license_text"`
	Classes     []string `json:"classes"`
	InputWidth  int      `json:"input_width"`
	InputHeight int      `json:"input_height"`
	MACs        int64    `json:"macs"`
	ArenaBytes  int      `json:"arena_bytes"`
	Kernels     string   `json:"kernels"`
}

func runInfo(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("info", infoHelp, stderr)
	model := fs.String("model", "default", "model: default, mid, or a .nsfw file")
	asJSON := fs.Bool("json", false, "print JSON (snake_case keys, the license text included)")
	license := fs.Bool("license", false, "print the full license text of the weights")
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
	switch {
	case *asJSON:
		b, _ := json.MarshalIndent(infoJSON{
			Name: in.Name, Description: in.Description, Source: in.Source, License: in.License,
			Copyright: in.Copyright, LicenseText: in.LicenseText, Classes: in.Classes,
			InputWidth: in.InputWidth, InputHeight: in.InputHeight, MACs: in.MACs,
			ArenaBytes: in.ArenaBytes, Kernels: in.Kernels,
		}, "", "  ")
		fmt.Fprintf(stdout, "%s\n", b)
		return exitOK
	case *license:
		if in.LicenseText == "" {
			fmt.Fprintf(stderr, "nsfw info: the model file holds no license text (its license: %q)\n", in.License)
			return exitUsage
		}
		fmt.Fprintln(stdout, strings.TrimRight(in.LicenseText, "\n"))
		return exitOK
	}
	fmt.Fprintf(stdout, "name:        %s\n", in.Name)
	fmt.Fprintf(stdout, "description: %s\n", in.Description)
	fmt.Fprintf(stdout, "source:      %s\n", in.Source)
	fmt.Fprintf(stdout, "license:     %s (%s); the full text: nsfw info --license\n", in.License, in.Copyright)
	fmt.Fprintf(stdout, "classes:     %s\n", strings.Join(in.Classes, ", "))
	fmt.Fprintf(stdout, "input:       %dx%d RGB, bilinear resize with aligned corners\n", in.InputWidth, in.InputHeight)
	fmt.Fprintf(stdout, "compute:     %.0f M multiply-adds per image\n", float64(in.MACs)/1e6)
	fmt.Fprintf(stdout, "memory:      %.1f MB arena per concurrent inference\n", float64(in.ArenaBytes)/1e6)
	fmt.Fprintf(stdout, "kernels:     %s\n", in.Kernels)
	return exitOK
}
