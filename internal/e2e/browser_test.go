// Package e2e runs the products in real headless Chromium (Debian's
// /usr/bin/chromium, driven through the DevTools protocol by chromedp): the
// WebAssembly engine and JS shim against the native Go engine and the
// nsfwjs reference, the demo page, and bad inputs, all served by the
// project's own Go server under its strict Content-Security-Policy.
//
// Each page records every request it and its workers make (DevTools
// Network events), and each test fails if one leaves 127.0.0.1. As a
// backstop, every request of the whole browser goes through a recording
// proxy; Chromium's own background calls (sign-in, component updates, which
// happen even on about:blank and which no flag disables in Chromium 156)
// are told apart from page requests by their missing Sec-Fetch headers.
//
// Without Chromium the tests skip, unless NSFW_REQUIRE_BROWSER=1 (CI).
package e2e

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/nsfw-go/nsfw/internal/webbuild"
	"github.com/nsfw-go/nsfw/internal/webserve"
)

var env struct {
	skip     string // why browser tests cannot run
	root     string
	web      string // the built web folder
	base     string // http://127.0.0.1:port
	browser  context.Context
	requests *recorder
}

// chromiumFlags are the flags this machine's Chromium needs: headless, no
// sandbox as root, and no background traffic to Google.
var chromiumFlags = append(chromedp.DefaultExecAllocatorOptions[:],
	chromedp.Flag("headless", true),
	chromedp.NoSandbox,
	chromedp.DisableGPU,
	chromedp.Flag("disable-background-networking", true),
	chromedp.Flag("disable-component-update", true),
	chromedp.Flag("disable-sync", true),
	chromedp.Flag("disable-quic", true),
	chromedp.Flag("disable-domain-reliability", true),
	chromedp.Flag("no-pings", true),
	chromedp.Flag("allow-browser-signin", "false"),
	chromedp.Flag("disable-component-extensions-with-background-pages", true),
	chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,NetworkTimeServiceQuerying,AutofillServerCommunication,CertificateTransparencyComponentUpdater,DialMediaRouteProvider"),
)

// chromiumPath finds Debian's Chromium. The binary is preferred to the
// /usr/bin/chromium wrapper, which exports Google API keys that switch on
// sign-in and component-update traffic the tests would then see leave.
func chromiumPath() string {
	for _, p := range []string{os.Getenv("NSFW_CHROMIUM"), "/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	root, _ := filepath.Abs("../..")
	env.root = root
	chromium := chromiumPath()
	if chromium == "" {
		env.skip = "Chromium is not installed (apt-get install chromium, or set NSFW_CHROMIUM)"
		if os.Getenv("NSFW_REQUIRE_BROWSER") == "1" {
			fmt.Fprintln(os.Stderr, "e2e:", env.skip)
			return 1
		}
		return m.Run()
	}
	tmp, err := os.MkdirTemp("", "nsfw-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	env.web = filepath.Join(tmp, "web")
	if err := webbuild.Build(webbuild.Options{Root: root, Out: env.web}); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building the web folder:", err)
		return 1
	}
	if err := webbuild.CopyTree("testdata/page", filepath.Join(env.web, "test")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	gen := filepath.Join(tmp, "generated")
	os.MkdirAll(gen, 0o755)
	if err := writeHugePNG(filepath.Join(gen, "huge.png"), 20000, 20000); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	mux := http.NewServeMux()
	mux.Handle("/", webserve.New(os.DirFS(env.web)))
	mux.Handle("/fixtures/", http.StripPrefix("/fixtures/", webserve.New(os.DirFS(filepath.Join(root, "testdata", "fixtures")))))
	mux.Handle("/generated/", http.StripPrefix("/generated/", webserve.New(os.DirFS(gen))))
	site := httptest.NewServer(mux)
	defer site.Close()
	env.base = site.URL

	// Every request, page or worker, HTTP or HTTPS, goes through this proxy.
	env.requests = &recorder{}
	target, _ := url.Parse(site.URL)
	proxy := httptest.NewServer(env.requests.handler(target))
	defer proxy.Close()

	opts := append(append([]chromedp.ExecAllocatorOption{}, chromiumFlags...),
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(filepath.Join(tmp, "profile")),
		chromedp.ProxyServer(proxy.URL),
		// Route loopback through the proxy too, so it sees everything.
		chromedp.Flag("proxy-bypass-list", "<-loopback>"),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	if err := chromedp.Do(browser); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: starting Chromium:", err)
		return 1
	}
	env.browser = browser
	return m.Run()
}

// recorder is a forward proxy that records every request and forwards only
// those for the test site.
type recorder struct {
	mu       sync.Mutex
	all      int
	offsite  []string // requests for other hosts
	fromPage []string // offsite requests that carry Sec-Fetch headers: made by web content
}

func (r *recorder) handler(site *url.URL) http.Handler {
	forward := httputil.NewSingleHostReverseProxy(site)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.all++
		if req.Method == http.MethodConnect || req.URL.Host != site.Host {
			u := req.URL.String()
			if req.Method == http.MethodConnect {
				u = "CONNECT " + req.Host
			}
			r.offsite = append(r.offsite, u)
			if req.Header.Get("Sec-Fetch-Mode") != "" || req.Header.Get("Sec-Fetch-Dest") != "" {
				r.fromPage = append(r.fromPage, u)
			}
		}
		r.mu.Unlock()
		if req.Method == http.MethodConnect || req.URL.Host != site.Host {
			http.Error(w, "blocked by the e2e proxy: only the test site is reachable", http.StatusForbidden)
			return
		}
		forward.ServeHTTP(w, req)
	})
}

// writeHugePNG writes a valid w×h grayscale PNG of zeros, streaming the
// compressed rows so that the test never holds the pixels.
func writeHugePNG(path string, w, h uint32) error {
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(kind string, data []byte) {
		binary.Write(&out, binary.BigEndian, uint32(len(data)))
		c := append([]byte(kind), data...)
		out.Write(c)
		binary.Write(&out, binary.BigEndian, crc32.ChecksumIEEE(c))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 0 // 8-bit grayscale
	chunk("IHDR", ihdr)
	var idat bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&idat, zlib.BestSpeed)
	row := make([]byte, w+1) // filter byte 0, then zeros
	for y := uint32(0); y < h; y++ {
		zw.Write(row)
	}
	zw.Close()
	chunk("IDAT", idat.Bytes())
	chunk("IEND", nil)
	return os.WriteFile(path, out.Bytes(), 0o644)
}

// page is one browser tab on a page of the test site, with the console
// errors and exceptions it logged.
type page struct {
	ctx      context.Context
	mu       sync.Mutex
	errors   []string
	requests []string
}

func openPage(t *testing.T, path string) *page {
	t.Helper()
	if env.skip != "" {
		t.Skip(env.skip)
	}
	ctx, cancel := chromedp.NewContext(env.browser)
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 5*time.Minute)
	t.Cleanup(cancelTimeout)
	p := &page{ctx: ctx}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == "error" || m.IsException() {
				p.mu.Lock()
				p.errors = append(p.errors, fmt.Sprintf("%s: %s (%s)", m.Type, m.Text, m.URL))
				p.mu.Unlock()
			}
		}
	}()
	requests := chromedp.Events(ctx, network.RequestWillBeSent)
	go func() {
		for ev, err := range requests {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.requests = append(p.requests, ev.Request.URL)
			p.mu.Unlock()
		}
	}()
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	// Every test checks that its page and workers stayed on 127.0.0.1.
	t.Cleanup(func() { p.checkRequests(t) })
	if err := chromedp.Do(ctx, chromedp.Navigate(env.base+path),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`))); err != nil {
		t.Fatalf("opening %s: %v", path, err)
	}
	return p
}

// call evaluates a JS expression (awaiting promises) into out.
func (p *page) call(t *testing.T, js string, out any) {
	t.Helper()
	raw, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]byte](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s: decoding %s: %v", js, raw, err)
		}
	}
}

func (p *page) checkRequests(t *testing.T) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, u := range p.requests {
		if !strings.HasPrefix(u, env.base+"/") && !strings.HasPrefix(u, "blob:") && !strings.HasPrefix(u, "data:") {
			t.Errorf("the page requested %s, off 127.0.0.1", u)
		}
	}
	if len(p.requests) == 0 {
		t.Error("no requests recorded: the Network events are not arriving")
	}
}

func (p *page) consoleErrors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.errors...)
}

// js formats a JS call with JSON-encoded arguments (%v placeholders).
func js(format string, args ...any) string {
	for i, a := range args {
		b, _ := json.Marshal(a)
		args[i] = string(b)
	}
	return fmt.Sprintf(format, args...)
}

// browserResult is the JSON form of the shim's Result (or an error).
type browserResult struct {
	Error         bool               `json:"error"`
	Code          string             `json:"code"`
	Message       string             `json:"message"`
	IsError       bool               `json:"isError"`
	IsNSFWError   bool               `json:"isNSFWError"`
	Probabilities map[string]float64 `json:"probabilities"`
	Top           string             `json:"top"`
	NSFW          bool               `json:"nsfw"`
	Verdict       string             `json:"verdict"`
	NSFWScore     float64            `json:"nsfwScore"`
	Frame         int                `json:"frame"`
	Frames        int                `json:"frames"`
	FrameCount    int                `json:"frameCount"`
	Width, Height int
	MS            float64 `json:"ms"`
	EngineMS      float64 `json:"engineMs"`
}

type pixels struct {
	Width, Height int
	RGBA          string
}

func (px pixels) bytes(t *testing.T) []byte {
	b, err := base64.StdEncoding.DecodeString(px.RGBA)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
