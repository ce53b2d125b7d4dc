package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/nsfw-go/nsfw"
)

// parseInterleaved parses flags that may come before or after positional
// arguments ("nsfw classify dir --json"); "--" ends the flags.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// newFlagSet returns a FlagSet whose -h output is the given help text.
func newFlagSet(name, help string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), help)
		fs.PrintDefaults()
	}
	return fs
}

// helpRequested reports a -h/--help parse result, which is not an error.
func helpRequested(err error) bool { return errors.Is(err, flag.ErrHelp) }

// loadModel resolves --model: "default", "mid", or a .nsfw file path.
func loadModel(model string, opts ...nsfw.Option) (*nsfw.Detector, error) {
	switch strings.ToLower(model) {
	case "", "default", "mobilenetv2":
		return nsfw.Default(opts...)
	case "mid", "mobilenetv2mid":
		return nsfw.Mid(opts...)
	}
	return nsfw.LoadFile(model, opts...)
}
