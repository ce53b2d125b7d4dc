package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/nsfw-go/nsfw/internal/convert/tfjs"
	"github.com/nsfw-go/nsfw/internal/format"
)

const convertHelp = `Usage: nsfw convert --model default|mid [--tarball nsfwjs-4.4.0.tgz | --fetch] -o OUT.nsfw

Converts one of nsfwjs's TF.js models into this project's .nsfw format
(see model/SPEC.md): BatchNorm is folded into the conv weights and the
uint8 weight codes are kept as they are. The input is the nsfwjs npm
tarball, checked against its pinned sha512 integrity; --fetch downloads it
with "npm pack" first. The output is byte-for-byte reproducible.

Models: default (MobileNetV2, a Keras layers model) and mid
(MobileNetV2Mid, a TF graph model).

Flags:
`

func runConvert(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("convert", convertHelp, stderr)
	model := fs.String("model", "default", "which nsfwjs model: default or mid")
	tarball := fs.String("tarball", "", "path to the nsfwjs npm tarball (.tgz)")
	fetch := fs.Bool("fetch", false, "download the tarball with npm pack ("+tfjs.NSFWJSPackage+"@"+tfjs.NSFWJSVersion+")")
	integrity := fs.String("integrity", tfjs.NSFWJSIntegrity, "expected sha512 integrity of the tarball, or \"any\"")
	out := fs.String("o", "", "output .nsfw file (required)")
	rest, err := parseInterleaved(fs, args)
	if helpRequested(err) {
		return exitOK
	}
	if err != nil {
		return exitUsage
	}
	if len(rest) > 0 || *out == "" || (*tarball == "") == !*fetch {
		fmt.Fprintln(stderr, "nsfw convert: need -o and exactly one of --tarball or --fetch (try: nsfw convert --help)")
		return exitUsage
	}
	path := *tarball
	if *fetch {
		dir, err := os.MkdirTemp("", "nsfw-convert-")
		if err != nil {
			fmt.Fprintln(stderr, "nsfw convert:", err)
			return exitErrors
		}
		defer os.RemoveAll(dir)
		if path, err = npmPack(dir, stderr); err != nil {
			fmt.Fprintln(stderr, "nsfw convert:", err)
			return exitErrors
		}
	}
	tgz, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(stderr, "nsfw convert:", err)
		return exitErrors
	}
	want := *integrity
	if want == "any" {
		want = ""
	}
	pkg, err := tfjs.OpenTarball(tgz, want)
	if err != nil {
		fmt.Fprintln(stderr, "nsfw convert:", err)
		return exitErrors
	}
	f, err := tfjs.ConvertNSFWJS(pkg, *model)
	if err != nil {
		fmt.Fprintln(stderr, "nsfw convert:", err)
		return exitErrors
	}
	b, err := format.Marshal(f)
	if err != nil {
		fmt.Fprintln(stderr, "nsfw convert:", err)
		return exitErrors
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		fmt.Fprintln(stderr, "nsfw convert:", err)
		return exitErrors
	}
	fmt.Fprintf(stdout, "wrote %s: %d ops, %d tensors, %d bytes\n", *out, len(f.Ops), len(f.Tensors), len(b))
	return exitOK
}

// npmPack downloads the pinned nsfwjs tarball into dir.
func npmPack(dir string, stderr io.Writer) (string, error) {
	spec := tfjs.NSFWJSPackage + "@" + tfjs.NSFWJSVersion
	cmd := exec.Command("npm", "pack", spec, "--pack-destination", dir, "--silent")
	cmd.Stderr = stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("npm pack %s: %w", spec, err)
	}
	return filepath.Join(dir, tfjs.NSFWJSPackage+"-"+tfjs.NSFWJSVersion+".tgz"), nil
}
