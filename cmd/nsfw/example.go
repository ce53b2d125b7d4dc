package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/nsfw-go/nsfw"
	"github.com/nsfw-go/nsfw/internal/imageio"
	"github.com/nsfw-go/nsfw/internal/webbuild"
	"github.com/nsfw-go/nsfw/upload"
	"github.com/nsfw-go/nsfw/web/prefilter"
)

const serveExampleHelp = `Usage: nsfw serve-example [flags]

Serves an example upload page with both checks on this machine: images are
classified in the browser (web/prefilter) before the form can be sent, and
again by the server (package upload) with the same engine and the same
policy, which the page reads from /upload/config. Open the address shown
and choose or drop images; "Send without the browser check" posts them as a
client that skipped the check would, to show the server refusing them.

The page needs the WebAssembly engine: --web names a built web folder; by
default dist/web is used when make web has built it, and otherwise the
engine is built into a temporary folder (from the repository, with go).

Flags:
`

func runServeExample(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve-example", serveExampleHelp, stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	web := fs.String("web", "", "built web folder (default: dist/web if built, else build one)")
	model := fs.String("model", "default", "model: default (MobileNetV2) or mid (MobileNetV2Mid), on both sides")
	policyFlag := fs.String("policy", "balanced", "policy: strict, balanced, lenient, or thresholds such as porn=0.6,sum=0.8")
	workers := fs.Int("workers", 0, "images checked at once on the server (default: the number of CPUs)")
	maxBody := fs.Int64("max-body", upload.DefaultMaxBodyBytes, "largest upload in bytes")
	maxFile := fs.Int64("max-file", upload.DefaultMaxFileBytes, "largest file in bytes")
	maxPixels := fs.Int64("max-pixels", imageio.DefaultMaxPixels, "largest image in pixels")
	maxFrames := fs.Int("max-frames", upload.DefaultMaxFrames, "most frames an animation may have (every one is checked)")
	timeout := fs.Duration("timeout", upload.DefaultTimeout, "time to receive and check one upload")
	rest, err := parseInterleaved(fs, args)
	if helpRequested(err) {
		return exitOK
	}
	if err != nil || len(rest) > 0 {
		if err == nil {
			fmt.Fprintf(stderr, "nsfw serve-example: unexpected arguments %v\n", rest)
		}
		return exitUsage
	}
	if *model != "default" && *model != "mid" {
		fmt.Fprintf(stderr, "nsfw serve-example: --model %q: want default or mid (the browser needs a built-in model)\n", *model)
		return exitUsage
	}
	policy, err := nsfw.ParsePolicy(*policyFlag)
	if err != nil {
		fmt.Fprintln(stderr, "nsfw serve-example:", err)
		return exitUsage
	}
	opts := []nsfw.Option{nsfw.WithPolicy(policy)}
	if *workers > 0 {
		opts = append(opts, nsfw.WithConcurrency(*workers))
	}
	det, err := loadModel(*model, opts...)
	if err != nil {
		fmt.Fprintln(stderr, "nsfw serve-example: loading the model:", err)
		return exitUsage
	}
	guard, err := upload.New(upload.Config{Detector: det, Workers: *workers, MaxBodyBytes: *maxBody,
		MaxFileBytes: *maxFile, MaxPixels: *maxPixels, MaxFrames: *maxFrames, Timeout: *timeout})
	if err != nil {
		fmt.Fprintln(stderr, "nsfw serve-example:", err)
		return exitUsage
	}

	dir, cleanup, err := exampleWebFolder(*web, *model, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "nsfw serve-example:", err)
		return exitUsage
	}
	defer cleanup()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(stderr, "nsfw serve-example:", err)
		return exitUsage
	}
	srv := &http.Server{
		Handler: prefilter.ExampleHandler(guard, os.DirFS(dir)),
		// Every connection's life is bounded: headers must come quickly,
		// bodies within the guard's Timeout (and at its MinRate), the
		// answer within the time to check them; idle connections close.
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       *timeout + 10*time.Second,
		WriteTimeout:      2*(*timeout) + 10*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	fmt.Fprintf(stdout, "serving the upload example at http://%s/ (model %s, policy %s; Ctrl-C to stop)\n", ln.Addr(), det.Info().Name, policy)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, "nsfw serve-example:", err)
		return exitErrors
	}
	return exitOK
}

// exampleWebFolder finds or builds the folder holding nsfw.js and the
// engine. A folder built here is temporary: cleanup removes it.
func exampleWebFolder(web, model string, stderr io.Writer) (dir string, cleanup func(), err error) {
	nothing := func() {}
	if web != "" {
		if _, err := os.Stat(filepath.Join(web, "nsfw.wasm")); err != nil {
			return "", nothing, fmt.Errorf("%s has no nsfw.wasm: run make web, or leave out --web", web)
		}
		return web, nothing, nil
	}
	root, ok := repoRoot()
	if !ok {
		return "", nothing, errors.New("no web folder: pass --web DIR (built by make web in the repository)")
	}
	if model == "default" {
		dist := filepath.Join(root, "dist", "web")
		if _, err := os.Stat(filepath.Join(dist, "nsfw.wasm")); err == nil {
			return dist, nothing, nil
		}
	}
	tmp, err := os.MkdirTemp("", "nsfw-example-web-")
	if err != nil {
		return "", nothing, err
	}
	fmt.Fprintf(stderr, "building the WebAssembly engine into %s (make web keeps one in dist/web)...\n", tmp)
	if err := webbuild.Build(webbuild.Options{Root: root, Out: tmp, Model: model}); err != nil {
		os.RemoveAll(tmp)
		return "", nothing, err
	}
	return tmp, func() { os.RemoveAll(tmp) }, nil
}

// repoRoot finds this repository above the working directory.
func repoRoot() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(bytes.TrimSpace(b), []byte("module github.com/nsfw-go/nsfw\n")) {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}
