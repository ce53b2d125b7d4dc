package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/nsfw-go/nsfw/internal/webbuild"
	"github.com/nsfw-go/nsfw/internal/webserve"
)

const serveHelp = `Usage: nsfw serve [--addr 127.0.0.1:8080] [--dir dist/web] [--build [--model default|mid]]

Serves the built web folder (make web): the WebAssembly engine, the JS
shim and the demo page at /demo/ (/ leads there). Responses carry the wasm
MIME type, brotli or gzip compression and the strict Content-Security-Policy
"` + webserve.CSP + `".
Images dropped on the demo are classified in the browser; nothing is
uploaded.

--build (make demo uses it) first builds the web folder into --dir from
this repository, as make web does. The address is taken before the build,
so a port in use is reported at once.

Flags:
`

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", serveHelp, stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	dir := fs.String("dir", "dist/web", "folder to serve (built by make web)")
	build := fs.Bool("build", false, "build the web folder into --dir first (in this repository)")
	model := fs.String("model", "default", "with --build, the model to embed: default or mid")
	rest, err := parseInterleaved(fs, args)
	if helpRequested(err) {
		return exitOK
	}
	if err != nil || len(rest) > 0 {
		if err == nil {
			fmt.Fprintf(stderr, "nsfw serve: unexpected arguments %v\n", rest)
		}
		return exitUsage
	}
	if !*build {
		if _, err := os.Stat(filepath.Join(*dir, "nsfw.wasm")); err != nil {
			fmt.Fprintf(stderr, "nsfw serve: %s has no nsfw.wasm: run make web first, or add --build\n", *dir)
			return exitUsage
		}
	}
	ln, err := listen(*addr)
	if err != nil {
		fmt.Fprintln(stderr, "nsfw serve:", err)
		return exitUsage
	}
	defer ln.Close()
	if *build {
		if err := buildWeb(*dir, *model, stdout); err != nil {
			fmt.Fprintln(stderr, "nsfw serve:", err)
			return exitUsage
		}
	}
	srv := &http.Server{Handler: serveHandler(os.DirFS(*dir)), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "serving %s at http://%s/demo/ (Ctrl-C to stop)\n", *dir, ln.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, "nsfw serve:", err)
		return exitErrors
	}
	return exitOK
}

// listen takes addr, saying what to do when it is in use.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("%s is in use, perhaps by another nsfw serve: stop that, or choose another address "+
			"(--addr 127.0.0.1:8081, or make demo ADDR=127.0.0.1:8081)", addr)
	}
	return ln, err
}

// buildWeb builds the web folder into dir, as make web does.
func buildWeb(dir, model string, stdout io.Writer) error {
	root, ok := repoRoot()
	if !ok {
		return errors.New("--build works inside this repository (it builds the wasm from source); without it, serve a folder built by make web")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	start := time.Now()
	fmt.Fprintf(stdout, "building the web folder into %s (the WebAssembly engine, then brotli and gzip copies)...\n", dir)
	if err := webbuild.Build(webbuild.Options{Root: root, Out: dir, Model: model}); err != nil {
		return err
	}
	if err := webserve.Precompress(dir); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "built %s in %.0f s\n", dir, time.Since(start).Seconds())
	return nil
}

// serveHandler serves the web folder, whose root is the npm package rather
// than a page: / is sent to the demo. The redirect is temporary, so that a
// browser does not remember it for this address (make example serves its
// own page at /).
func serveHandler(root fs.FS) http.Handler {
	files := webserve.New(root)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			http.Redirect(w, r, "/demo/", http.StatusFound)
			return
		}
		files.ServeHTTP(w, r)
	})
}
