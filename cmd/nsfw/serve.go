package main

import (
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

	"github.com/nsfw-go/nsfw/internal/webserve"
)

const serveHelp = `Usage: nsfw serve [--addr 127.0.0.1:8080] [--dir dist/web]

Serves the built web folder (make web): the WebAssembly engine, the JS
shim and the demo page at /demo/. Responses carry the wasm MIME type,
brotli or gzip compression and the strict Content-Security-Policy
"` + webserve.CSP + `".
Images dropped on the demo are classified in the browser; nothing is
uploaded.

Flags:
`

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", serveHelp, stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	dir := fs.String("dir", "dist/web", "folder to serve (built by make web)")
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
	if _, err := os.Stat(filepath.Join(*dir, "nsfw.wasm")); err != nil {
		fmt.Fprintf(stderr, "nsfw serve: %s has no nsfw.wasm: run make web first\n", *dir)
		return exitUsage
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(stderr, "nsfw serve:", err)
		return exitUsage
	}
	srv := &http.Server{Handler: webserve.New(os.DirFS(*dir)), ReadHeaderTimeout: 10 * time.Second}
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
