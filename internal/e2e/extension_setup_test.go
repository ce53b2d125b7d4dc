package e2e

// The browser extension's test rig: the unpacked extension built by
// internal/extbuild (from the web folder TestMain built), a second Chromium
// that loads it with --load-extension, and a test site on two loopback
// ports: pages on one, cross-origin images and videos on the other (no CORS
// headers). Every request of that browser goes through a proxy that
// forwards only to the two test hosts and records the rest.
//
// The rig starts with the first extension test and is shared by all of
// them. Headless Chromium loads extensions (its "new" headless mode is the
// full browser), so no display is needed.

import (
	"context"
	"encoding/base64"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/nsfw-go/nsfw/internal/extbuild"
)

var ext struct {
	once    sync.Once
	err     error
	dir     string    // the unpacked extension
	id      string    // its id, from its service worker's URL
	worker  target.ID // its service worker
	site    string    // http://127.0.0.1:port of the pages
	images  string    // http://127.0.0.1:port of the cross-origin images
	browser context.Context
	proxy   *hostProxy
	log     *consoleLog // the extension's own contexts: service worker, offscreen document
}

// useExtension starts the rig once, or skips as the other browser tests do.
func useExtension(t testing.TB) {
	t.Helper()
	if env.skip != "" {
		t.Skip(env.skip)
	}
	ext.once.Do(func() { ext.err = startExtensionRig() })
	if ext.err != nil {
		t.Fatal("starting the extension rig: ", ext.err)
	}
}

func startExtensionRig() error {
	// Inside TestMain's temporary folder, which it removes at the end.
	dir := filepath.Join(filepath.Dir(env.web), "extension-rig")
	ext.dir = filepath.Join(dir, "extension")
	if err := extbuild.Build(extbuild.Options{Root: env.root, Out: ext.dir, Web: env.web}); err != nil {
		return err
	}
	videos := filepath.Join(dir, "video")
	if err := os.MkdirAll(videos, 0o755); err != nil {
		return err
	}

	// Start both servers first: each needs the other's address.
	siteMux, imagesMux := http.NewServeMux(), http.NewServeMux()
	site := httptest.NewServer(siteMux)
	images := httptest.NewServer(imagesMux)
	ext.site, ext.images = site.URL, images.URL
	fixtures := http.FileServer(http.Dir(filepath.Join(env.root, "testdata", "fixtures")))
	for _, mux := range []*http.ServeMux{siteMux, imagesMux} {
		mux.Handle("/fixtures/", http.StripPrefix("/fixtures/", fixtures))
		mux.Handle("/video/", http.StripPrefix("/video/", http.FileServer(http.Dir(videos))))
		// Served only to pages of the test site, as hotlink protection
		// does: the extension's own fetch is refused.
		mux.Handle("/hotlink/", http.StripPrefix("/hotlink/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasPrefix(r.Referer(), ext.site+"/") {
				http.Error(w, "hotlinking refused", http.StatusForbidden)
				return
			}
			fixtures.ServeHTTP(w, r)
		})))
	}
	// Both serve the pages: the images host serves the page index.html
	// embeds as a cross-origin frame.
	siteMux.Handle("/", siteFiles(filepath.Join(env.root, "internal", "e2e", "testdata", "extsite")))
	imagesMux.Handle("/", siteFiles(filepath.Join(env.root, "internal", "e2e", "testdata", "extsite")))

	ext.proxy = &hostProxy{allowed: map[string]bool{}}
	for _, s := range []string{site.URL, images.URL} {
		u, _ := url.Parse(s)
		ext.proxy.allowed[u.Host] = true
	}
	proxy := httptest.NewServer(ext.proxy)

	opts := append(append([]chromedp.ExecAllocatorOption{}, chromiumFlags...),
		chromedp.ExecPath(chromiumPath()),
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.WindowSize(1280, 900),
		chromedp.ProxyServer(proxy.URL),
		chromedp.Flag("proxy-bypass-list", "<-loopback>"),
		// chromedp's defaults turn extensions off.
		chromedp.Flag("disable-extensions", false),
		chromedp.Flag("disable-extensions-except", ext.dir),
		chromedp.Flag("load-extension", ext.dir),
	)
	alloc, _ := chromedp.NewExecAllocator(context.Background(), opts...)
	browser, _ := chromedp.NewContext(alloc, chromedp.WithErrorf(quietErrorf))
	if err := chromedp.Do(browser); err != nil {
		return err
	}
	ext.browser = browser
	ext.log = &consoleLog{}

	// The extension's service worker starts with the browser.
	var worker *target.Info
	for deadline := time.Now().Add(20 * time.Second); worker == nil; {
		infos, err := chromedp.Targets(browser)
		if err != nil {
			return err
		}
		for _, info := range infos {
			if info.Type == "service_worker" && strings.HasPrefix(info.URL, "chrome-extension://") {
				worker = info
			}
		}
		if worker == nil && time.Now().After(deadline) {
			return fmt.Errorf("the extension did not start: no service worker among the targets %v", describeTargets(infos))
		}
		time.Sleep(100 * time.Millisecond)
	}
	u, _ := url.Parse(worker.URL)
	ext.id = u.Host
	ext.worker = worker.TargetID
	if err := ext.log.attach(browser, worker.TargetID, "service worker"); err != nil {
		return err
	}
	// The offscreen document comes and goes: listen to each one, from as
	// soon as the browser reports it.
	offscreen := "chrome-extension://" + ext.id + "/offscreen.html"
	attached := map[target.ID]bool{}
	watch := func(info *target.Info) {
		if strings.HasPrefix(info.URL, offscreen) && !attached[info.TargetID] {
			attached[info.TargetID] = true
			go ext.log.attach(browser, info.TargetID, "offscreen document")
		}
	}
	created := chromedp.BrowserEvents(browser, target.TargetCreated)
	changed := chromedp.BrowserEvents(browser, target.TargetInfoChanged)
	var mu sync.Mutex
	go func() {
		for ev, err := range created {
			if err != nil {
				return
			}
			mu.Lock()
			watch(ev.TargetInfo)
			mu.Unlock()
		}
	}()
	go func() {
		for ev, err := range changed {
			if err != nil {
				return
			}
			mu.Lock()
			watch(ev.TargetInfo)
			mu.Unlock()
		}
	}()
	return recordVideos(videos)
}

// siteFiles serves the test site, with {{images}} in its pages replaced by
// the images server's address.
func siteFiles(dir string) http.Handler {
	files := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, ".html") {
			files.ServeHTTP(w, r)
			return
		}
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(r.URL.Path, "/"))))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write([]byte(strings.ReplaceAll(string(b), "{{images}}", ext.images)))
	})
}

// recordVideos makes the test videos in the browser (record.js): a safe
// one and an NSFW-scored one.
func recordVideos(dir string) error {
	ctx, cancel := chromedp.NewContext(ext.browser)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, time.Minute)
	defer cancelTimeout()
	if err := chromedp.Do(ctx, chromedp.Navigate(ext.site+"/record.html")); err != nil {
		return err
	}
	for file, fixture := range map[string]string{"safe.webm": "photo-chelsea.png", "nsfw.webm": "ascent-default-porn.png"} {
		b64, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf("record(%q)", fixture), chromedp.EvalAwaitPromise))
		if err != nil {
			return fmt.Errorf("recording %s: %w", file, err)
		}
		b, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, file), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func describeTargets(infos []*target.Info) string {
	var s []string
	for _, i := range infos {
		s = append(s, i.Type+" "+i.URL)
	}
	return strings.Join(s, ", ")
}

// hostProxy forwards requests for the allowed hosts and refuses and records
// every other one.
type hostProxy struct {
	allowed  map[string]bool
	mu       sync.Mutex
	all      int
	fromWeb  []string // refused requests that web or extension content made (Sec-Fetch headers)
	refused  []string // every refused request, Chromium's own background calls included
	requests []string // forwarded ones
}

func (p *hostProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.all++
	ok := r.Method != http.MethodConnect && p.allowed[r.URL.Host]
	u := r.URL.String()
	if r.Method == http.MethodConnect {
		u = "CONNECT " + r.Host
	}
	if ok {
		p.requests = append(p.requests, u)
	} else {
		p.refused = append(p.refused, u)
		if r.Header.Get("Sec-Fetch-Mode") != "" || r.Header.Get("Sec-Fetch-Dest") != "" {
			p.fromWeb = append(p.fromWeb, u)
		}
	}
	p.mu.Unlock()
	if !ok {
		http.Error(w, "blocked by the e2e proxy: only the test hosts are reachable", http.StatusForbidden)
		return
	}
	(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(&url.URL{Scheme: "http", Host: r.URL.Host})
		pr.Out.Host = r.URL.Host
	}}).ServeHTTP(w, r)
}

// consoleLog collects the console errors and exceptions of the
// extension's own contexts.
type consoleLog struct {
	mu     sync.Mutex
	errors []string
}

func (l *consoleLog) attach(browser context.Context, id target.ID, what string) error {
	ctx, _ := chromedp.NewContext(browser, chromedp.WithTargetID(id))
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == "error" || m.IsException() {
				l.mu.Lock()
				l.errors = append(l.errors, fmt.Sprintf("%s: %s: %s (%s)", what, m.Type, m.Text, m.URL))
				l.mu.Unlock()
			}
		}
	}()
	return chromedp.Do(ctx)
}

// quietErrorf logs chromedp's errors, but the one it gives for the DOM
// events of a document without a frame (the offscreen document).
func quietErrorf(format string, args ...any) {
	if msg := fmt.Sprintf(format, args...); !strings.Contains(msg, "no top-level frame") {
		log.Print(msg)
	}
}

func (l *consoleLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.errors
	l.errors = nil
	return out
}

// extPage is a tab of the extension's browser.
type extPage struct {
	*page
}

// openExtPage opens a tab, records its console errors and requests, and
// starts loading url without waiting for the page to load.
func openExtPage(t *testing.T, path string) *extPage {
	t.Helper()
	ctx, cancel := chromedp.NewContext(ext.browser)
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancelTimeout)
	p := &extPage{consolePage(ctx)}
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
	p.navigate(t, path)
	return p
}

// consolePage makes a page of a tab's context that records the tab's
// console errors and exceptions.
func consolePage(ctx context.Context) *page {
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
	return p
}

// navigate starts loading a page of the site and returns at once.
func (p *extPage) navigate(t *testing.T, path string) {
	t.Helper()
	if _, err := chromedp.Call(p.ctx, cdppage.Navigate, cdppage.NavigateParams{URL: ext.site + path}); err != nil {
		t.Fatalf("opening %s: %v", path, err)
	}
}

// checkRequests fails the test for a request of the page that left the
// two test hosts.
func (p *extPage) checkRequests(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, u := range p.requests {
		if !strings.HasPrefix(u, ext.site+"/") && !strings.HasPrefix(u, ext.images+"/") &&
			!strings.HasPrefix(u, "blob:") && !strings.HasPrefix(u, "data:") {
			t.Errorf("the page requested %s, off the test hosts", u)
		}
	}
}
