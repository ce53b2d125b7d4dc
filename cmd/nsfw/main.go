// Command nsfw classifies images as Drawing, Hentai, Neutral, Porn or Sexy
// on this machine, with the same engine and weights as the WebAssembly
// build. Run "nsfw help" for usage.
package main

import (
	"fmt"
	"io"
	"os"
)

// Exit codes. classify combines them: 1|4 = 5 means some files were
// flagged and some could not be read.
const (
	exitOK       = 0 // everything classified and safe
	exitFlagged  = 1 // at least one image was flagged NSFW by the policy
	exitUsage    = 2 // bad command line, or the model could not be loaded
	exitErrors   = 4 // at least one file could not be read or decoded
	exitNoImages = 8 // the paths given held no image file (and none failed)
)

const usage = `nsfw classifies images as Drawing, Hentai, Neutral, Porn or Sexy.
Everything runs on this machine; no image leaves it.

Usage:
  nsfw classify [flags] FILE|DIR...   classify images (folders are walked recursively)
  nsfw info [--model M]               describe a model: source, license, size, cost
  nsfw convert [flags]                convert nsfwjs's TF.js models to .nsfw files
  nsfw serve [--addr A] [--dir D]     serve the web build and demo (make web) on localhost
  nsfw serve-example [flags]          serve an upload example, checked in the browser and on the server
  nsfw version                        print the version
  nsfw help [COMMAND]                 show help for a command

Exit codes of classify:
  0  every image was classified and is safe
  1  at least one image was flagged NSFW by the policy
  2  usage error, or the model could not be loaded
  4  at least one file could not be read or decoded (1|4 = 5 when both)
  8  no images were found in the paths given (and none failed)

Run "nsfw help classify" for the flags.
`

// version is set by the build (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "classify":
		return runClassify(args[1:], stdout, stderr)
	case "info":
		return runInfo(args[1:], stdout, stderr)
	case "convert":
		return runConvert(args[1:], stdout, stderr)
	case "serve":
		return runServe(args[1:], stdout, stderr)
	case "serve-example":
		return runServeExample(args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "nsfw", version)
		return exitOK
	case "help", "-h", "--help", "-help":
		if len(args) > 1 {
			return run([]string{args[1], "--help"}, stdin, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "nsfw: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}
