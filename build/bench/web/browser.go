package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// chromiumFlags are internal/e2e's: headless, no sandbox (root), no GPU,
// and none of Chromium's background traffic to Google.
var chromiumFlags = append(chromedp.DefaultExecAllocatorOptions[:],
	chromedp.Flag("headless", true),
	chromedp.NoSandbox,
	chromedp.DisableGPU,
	chromedp.NoFirstRun,
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

// chromiumPath finds Debian's Chromium binary. It is preferred to the
// /usr/bin/chromium wrapper, which exports Google API keys that switch on
// sign-in and component-update traffic.
func chromiumPath(flagValue string) string {
	for _, p := range []string{flagValue, os.Getenv("NSFW_CHROMIUM"), "/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
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

// recorder is the forward proxy every request of the browser goes
// through: it forwards only requests for the site and counts the others.
// Requests made by web content carry Sec-Fetch headers; Chromium's own
// background calls do not.
type recorder struct {
	mu       sync.Mutex
	offsite  []string
	fromPage []string
}

func (r *recorder) handler(site *url.URL) http.Handler {
	forward := httputil.NewSingleHostReverseProxy(site)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method == http.MethodConnect || req.URL.Host != site.Host {
			u := req.URL.String()
			if req.Method == http.MethodConnect {
				u = "CONNECT " + req.Host
			}
			r.mu.Lock()
			r.offsite = append(r.offsite, u)
			if req.Header.Get("Sec-Fetch-Mode") != "" || req.Header.Get("Sec-Fetch-Dest") != "" {
				r.fromPage = append(r.fromPage, u)
			}
			r.mu.Unlock()
			http.Error(w, "blocked by the benchmark's proxy: only the local site is reachable", http.StatusForbidden)
			return
		}
		forward.ServeHTTP(w, req)
	})
}

// startBrowser launches Chromium with every request through proxy.
func startBrowser(chromium, profile, proxy string) (context.Context, context.CancelFunc, error) {
	opts := append(append([]chromedp.ExecAllocatorOption{}, chromiumFlags...),
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(profile),
		chromedp.ProxyServer(proxy),
		// Route loopback through the proxy too, so that it sees everything.
		chromedp.Flag("proxy-bypass-list", "<-loopback>"),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	cancel := func() { cancelBrowser(); cancelAlloc() }
	if err := chromedp.Do(browser); err != nil {
		cancel()
		return nil, nil, fmt.Errorf("starting Chromium (%s): %w", chromium, err)
	}
	return browser, cancel, nil
}

// tab is one page in its own browser context: its own renderer process
// and an empty HTTP cache, which is also disabled.
type tab struct {
	ctx      context.Context
	cancel   context.CancelFunc
	mu       sync.Mutex
	errors   []string // console errors and uncaught exceptions
	requests []string // every URL the page and its workers asked for (DevTools)
}

// openTab opens a tab. A positive concurrency overrides what the page
// reads as navigator.hardwareConcurrency.
func openTab(browser context.Context, verbose bool, concurrency int) (*tab, error) {
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t := &tab{ctx: ctx, cancel: cancel}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if verbose {
				fmt.Fprintf(os.Stderr, "  console %s: %s\n", m.Type, m.Text)
			}
			if m.Type == "error" || m.IsException() {
				t.mu.Lock()
				t.errors = append(t.errors, strings.TrimSpace(m.Text))
				t.mu.Unlock()
			}
		}
	}()
	requests := chromedp.Events(ctx, network.RequestWillBeSent)
	go func() {
		for ev, err := range requests {
			if err != nil {
				return
			}
			t.mu.Lock()
			t.requests = append(t.requests, ev.Request.URL)
			t.mu.Unlock()
		}
	}()
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		cancel()
		return nil, err
	}
	if _, err := chromedp.Call(ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
		cancel()
		return nil, err
	}
	if concurrency > 0 {
		if _, err := chromedp.Call(ctx, emulation.SetHardwareConcurrencyOverride, emulation.SetHardwareConcurrencyOverrideParams{HardwareConcurrency: int64(concurrency)}); err != nil {
			cancel()
			return nil, err
		}
	}
	return t, nil
}

// load navigates and waits up to timeout for the page's cold start
// (window.bench.cold) into out.
func (t *tab) load(url string, timeout time.Duration, out any) error {
	if err := chromedp.Do(t.ctx, chromedp.Navigate(url)); err != nil {
		return fmt.Errorf("opening %s: %w", url, err)
	}
	// Polled on a timer, not on animation frames, which a hidden page lacks.
	raw, err := chromedp.Run(t.ctx, chromedp.Poll[[]byte](`window.bench && (window.bench.cold || window.bench.error) && { cold: window.bench.cold, error: window.bench.error }`,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(timeout)))
	if err != nil {
		return fmt.Errorf("%s did not finish loading: %v%s", url, err, t.consoleTail())
	}
	var r struct {
		Cold  json.RawMessage
		Error string
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return err
	}
	if r.Error != "" {
		return fmt.Errorf("%s: %s%s", url, firstLine(r.Error), t.consoleTail())
	}
	return json.Unmarshal(r.Cold, out)
}

// call evaluates a JS expression, awaiting a promise, into out.
func (t *tab) call(js string, out any) error {
	raw, err := chromedp.Run(t.ctx, chromedp.Evaluate[[]byte](js, chromedp.EvalAwaitPromise))
	if err != nil {
		return fmt.Errorf("%s: %v%s", js, err, t.consoleTail())
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(raw, out)
}

func (t *tab) front() {
	chromedp.Call(t.ctx, page.BringToFront, cdp.Empty{})
}

func (t *tab) close() { t.cancel() }

// offsite lists the requests the page made anywhere but base.
func (t *tab) offsite(base string) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for _, u := range t.requests {
		if !strings.HasPrefix(u, base+"/") && !strings.HasPrefix(u, "blob:") && !strings.HasPrefix(u, "data:") {
			out = append(out, u)
		}
	}
	return out
}

func (t *tab) consoleTail() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.errors) == 0 {
		return ""
	}
	return "; console: " + strings.Join(t.errors[max(0, len(t.errors)-3):], " | ")
}

func (t *tab) consoleErrors() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.errors...)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
