package e2e

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/nsfw-go/nsfw"
	"github.com/nsfw-go/nsfw/internal/webserve"
	"github.com/nsfw-go/nsfw/upload"
	"github.com/nsfw-go/nsfw/web/prefilter"
)

// The prefilter tests run the upload example (prefilter.ExampleHandler:
// the page, the module, the engine from env.web and the guarded upload
// route) in this process, so that they can see every upload that reaches
// the server. Each site gets its own browser context whose traffic goes
// through its own recording proxy, as the shared site's does.

var (
	exampleDetOnce sync.Once
	exampleDet     *nsfw.Detector
)

// exampleSite is one running example server.
type exampleSite struct {
	base  string
	guard *upload.Guard
	gen   string // folder of generated inputs, served at /generated/

	mu      sync.Mutex
	uploads []int // status of every POST /upload, in order
}

func (s *exampleSite) posts() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.uploads...)
}

// statusWriter records the status of a response. Unwrap keeps
// http.ResponseController (the guard's read deadline) working through it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// startExample serves the example with the given policy and guard
// configuration (Detector is filled in).
func startExample(t *testing.T, policy nsfw.Policy, cfg upload.Config) *exampleSite {
	t.Helper()
	if env.skip != "" {
		t.Skip(env.skip)
	}
	exampleDetOnce.Do(func() {
		var err error
		if exampleDet, err = nsfw.Default(); err != nil {
			panic(err)
		}
	})
	det, err := exampleDet.WithPolicy(policy)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Detector = det
	g, err := upload.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &exampleSite{guard: g, gen: t.TempDir()}
	example := prefilter.ExampleHandler(g, os.DirFS(env.web))
	mux := http.NewServeMux()
	mux.Handle("/fixtures/", http.StripPrefix("/fixtures/", webserve.New(os.DirFS(filepath.Join(env.root, "testdata", "fixtures")))))
	mux.Handle("/inputs/", http.StripPrefix("/inputs/", webserve.New(os.DirFS("testdata/prefilter"))))
	mux.Handle("/generated/", http.StripPrefix("/generated/", webserve.New(os.DirFS(s.gen))))
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/upload" || r.Method != http.MethodPost {
			example.ServeHTTP(w, r)
			return
		}
		sw := &statusWriter{ResponseWriter: w}
		example.ServeHTTP(sw, r)
		s.mu.Lock()
		s.uploads = append(s.uploads, sw.status)
		s.mu.Unlock()
	}))
	site := httptest.NewServer(mux)
	t.Cleanup(site.Close)
	s.base = site.URL
	return s
}

// open opens a tab on path in a fresh browser context whose every request
// goes through a recording proxy that forwards only to this site.
func (s *exampleSite) open(t *testing.T, path string) *page {
	t.Helper()
	requests := &recorder{}
	target0, _ := url.Parse(s.base)
	proxy := httptest.NewServer(requests.handler(target0))
	t.Cleanup(proxy.Close)
	ctx, cancel := chromedp.NewContext(env.browser, chromedp.WithNewBrowserContext(func(p *target.CreateBrowserContextParams) {
		p.ProxyServer = proxy.URL
		p.ProxyBypassList = "<-loopback>"
	}))
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancelTimeout)
	p := &page{ctx: ctx}
	go func() {
		for m, err := range chromedp.Console(ctx) {
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
	go func() {
		for ev, err := range chromedp.Events(ctx, network.RequestWillBeSent) {
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
	t.Cleanup(func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, u := range p.requests {
			if !strings.HasPrefix(u, s.base+"/") && !strings.HasPrefix(u, "blob:") && !strings.HasPrefix(u, "data:") {
				t.Errorf("the page requested %s, off the example server", u)
			}
		}
		if len(p.requests) == 0 {
			t.Error("no requests recorded: the Network events are not arriving")
		}
		requests.mu.Lock()
		defer requests.mu.Unlock()
		if requests.all == 0 {
			t.Error("nothing went through the proxy: the browser context ignores it")
		}
		if len(requests.fromPage) > 0 {
			t.Errorf("requests that left 127.0.0.1: %v", requests.fromPage)
		}
	})
	if err := chromedp.Do(ctx, chromedp.Navigate(s.base+path), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`))); err != nil {
		t.Fatalf("opening %s: %v", path, err)
	}
	return p
}

// wait polls a JS expression until it is true.
func (p *page) wait(t *testing.T, expr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 60*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		var state string
		p.call(t, `document.querySelector('#status').textContent + ' | ' + [...document.querySelectorAll('#files li')].map((li) => li.dataset.state + ': ' + li.textContent).join(' | ') + ' | server: ' + document.querySelector('#server').textContent`, &state)
		t.Fatalf("waiting for %s: %v; page: %s", expr, err, state)
	}
}

func (p *page) choose(t *testing.T, paths ...string) {
	t.Helper()
	if err := chromedp.Do(p.ctx, chromedp.SetUploadFiles(chromedp.CSS("#photos"), paths)); err != nil {
		t.Fatal(err)
	}
}

// fileState is one entry of the page's file list.
type fileState struct {
	Name, State, Reason, Message string
}

const readFiles = `[...document.querySelectorAll('#files li')].map((li) => ({
	name: li.querySelector('.prefilter-name').textContent,
	state: li.dataset.state, reason: li.dataset.reason ?? '',
	message: li.querySelector('.prefilter-message').textContent,
}))`

func (p *page) files(t *testing.T) []fileState {
	var fs []fileState
	p.call(t, readFiles, &fs)
	return fs
}

func (p *page) text(t *testing.T, sel string) string {
	var s string
	p.call(t, js(`document.querySelector(%v).textContent`, sel), &s)
	return s
}

// noUploadFor checks that the server saw exactly want uploads after a while.
func (s *exampleSite) expectUploads(t *testing.T, want ...int) {
	t.Helper()
	got := s.posts()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("uploads the server saw: %v, want %v", got, want)
	}
}

func fixturePath(name string) string { return filepath.Join(env.root, "testdata", "fixtures", name) }

// TestPrefilterSafeFileSubmits: choosing a safe photo lets the form
// submit, and the server (checking again) accepts and reads it.
func TestPrefilterSafeFileSubmits(t *testing.T) {
	s := startExample(t, nsfw.Balanced, upload.Config{})
	p := s.open(t, "/")
	var agree, policy string
	p.call(t, `document.body.dataset.agree`, &agree)
	policy = p.text(t, "#policy")
	if agree != "true" || !strings.HasPrefix(policy, "balanced: porn ≥ 0.50") {
		t.Errorf("the page and the server disagree: agree=%s, policy %q, %s", agree, policy, p.text(t, "#engine"))
	}
	// Accessible wiring: the live region, and the input described by it.
	var a11y struct{ Live, Role, DescribedBy string }
	p.call(t, `({live: document.querySelector('#status').getAttribute('aria-live'), role: document.querySelector('#status').getAttribute('role'),
		describedBy: document.querySelector('#photos').getAttribute('aria-describedby')})`, &a11y)
	if a11y.Live != "polite" || a11y.Role != "status" || !strings.Contains(a11y.DescribedBy, "status") || !strings.Contains(a11y.DescribedBy, "files") {
		t.Errorf("accessibility wiring: %+v", a11y)
	}

	p.choose(t, fixturePath("photo-chelsea.png"))
	p.wait(t, `document.querySelector('#files li')?.dataset.state === 'accepted'`)
	if st := p.text(t, "#status"); st != "The image was checked: ready to upload." {
		t.Errorf("status %q", st)
	}
	if fs := p.files(t); len(fs) != 1 || fs[0].Message != "“photo-chelsea.png” is ready to upload." {
		t.Errorf("files %+v", fs)
	}
	s.expectUploads(t) // checking sent nothing
	if err := chromedp.Do(p.ctx, chromedp.SendKeys(chromedp.CSS("#caption"), "a cat"), chromedp.Click(chromedp.CSS("#send"))); err != nil {
		t.Fatal(err)
	}
	p.wait(t, `document.querySelector('#server').dataset.status === '200'`)
	s.expectUploads(t, http.StatusOK)
	if ans := p.text(t, "#server"); !strings.Contains(ans, "Received 1 image") || !strings.Contains(ans, "photo-chelsea.png") {
		t.Errorf("server answer on the page: %q", ans)
	}
	if errs := p.consoleErrors(); len(errs) > 0 {
		for _, e := range errs {
			if !strings.Contains(e, "kernels.wasm") && !strings.Contains(e, "favicon") {
				t.Errorf("console: %s", e)
			}
		}
	}
}

// TestPrefilterNSFWIsBlocked: an NSFW-scored photo is refused in the
// browser with a clear, announced message, and the form cannot be sent;
// the same file sent past the browser check is refused by the server.
func TestPrefilterNSFWIsBlocked(t *testing.T) {
	s := startExample(t, nsfw.Balanced, upload.Config{})
	p := s.open(t, "/")
	p.choose(t, fixturePath("photo-coffee.png"), fixturePath("ascent-default-porn.png"))
	p.wait(t, `document.querySelector('#files').dataset.state === 'rejected'`)
	fs := p.files(t)
	if len(fs) != 2 || fs[0].State != "accepted" || fs[1].State != "rejected" || fs[1].Reason != "nsfw" ||
		!strings.HasPrefix(fs[1].Message, "“ascent-default-porn.png” can’t be uploaded: it was flagged as not safe for work (Porn 100%)") {
		t.Fatalf("files %+v", fs)
	}
	status := p.text(t, "#status")
	if !strings.HasPrefix(status, "1 of 2 files can’t be uploaded. Remove or replace it to continue.") || !strings.Contains(status, fs[1].Message) {
		t.Errorf("status %q", status)
	}
	var invalid struct {
		Valid       bool
		AriaInvalid string
	}
	p.call(t, `({valid: document.querySelector('#photos').checkValidity(), ariaInvalid: document.querySelector('#photos').getAttribute('aria-invalid')})`, &invalid)
	if invalid.Valid || invalid.AriaInvalid != "true" {
		t.Errorf("input validity %+v", invalid)
	}

	// Clicking Upload sends nothing, however long we wait.
	if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS("#send"))); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	s.expectUploads(t)
	if ans := p.text(t, "#server"); ans != "Nothing sent yet." {
		t.Errorf("server answer %q", ans)
	}
	// The browser's own refusal is announced in the live region too.
	if st := p.text(t, "#status"); !strings.Contains(st, "can’t be uploaded") {
		t.Errorf("status after the refused submit: %q", st)
	}
	// Even a form that skips validation (novalidate) is held by the guard.
	p.call(t, `document.querySelector('#upload').noValidate = true; document.querySelector('#upload').requestSubmit(); true`, nil)
	time.Sleep(500 * time.Millisecond)
	s.expectUploads(t)

	// A client that skips the check: the server refuses the same file.
	if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS("#bypass"))); err != nil {
		t.Fatal(err)
	}
	p.wait(t, `document.querySelector('#server').dataset.status === '422'`)
	s.expectUploads(t, http.StatusUnprocessableEntity)
	var answer []fileState
	p.call(t, `[...document.querySelectorAll('#server li')].map((li) => ({name: li.querySelector('.name').textContent, state: li.className, reason: li.dataset.reason, message: li.querySelector('.message').textContent}))`, &answer)
	if len(answer) != 2 || answer[1].State != "rejected" || answer[1].Reason != "nsfw" || answer[1].Message != fs[1].Message {
		t.Errorf("the server's reasons on the page: %+v (the browser said %q)", answer, fs[1].Message)
	}
	if os.Getenv("NSFW_UPDATE_SCREENSHOT") == "1" {
		if err := chromedp.Do(p.ctx, chromedp.EmulateViewport(900, 1090)); err != nil {
			t.Fatal(err)
		}
		png, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(env.root, "web", "prefilter", "screenshot.png"), png, 0o644)
	}

	// Removing the rejected file makes the form valid, and it submits.
	p.call(t, `document.querySelector('#upload').noValidate = false; true`, nil)
	if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS(".prefilter-file[data-state=rejected] .prefilter-remove"))); err != nil {
		t.Fatal(err)
	}
	p.wait(t, `document.querySelector('#files').dataset.state === 'accepted' && document.querySelector('#photos').files.length === 1`)
	if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS("#send"))); err != nil {
		t.Fatal(err)
	}
	p.wait(t, `document.querySelector('#server').dataset.status === '200'`)
	s.expectUploads(t, http.StatusUnprocessableEntity, http.StatusOK)
}

// TestPrefilterBadFiles: a corrupt file, a HEIC photo, text, an empty
// file, an image over the pixel limit and a file over the byte limit each
// get their own message; the form stays blocked.
func TestPrefilterBadFiles(t *testing.T) {
	s := startExample(t, nsfw.Balanced, upload.Config{MaxFileBytes: 1 << 20})
	huge := filepath.Join(s.gen, "huge.png")
	if err := writeHugePNG(huge, 10000, 10000); err != nil { // 100 MP, over the 50 MP limit
		t.Fatal(err)
	}
	big := filepath.Join(s.gen, "big.png")
	noise := make([]byte, 3<<19)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range noise {
		noise[i] = byte(r.Uint32())
	}
	os.WriteFile(big, append(bytes.Clone(fixtureBytes(t, "photo-chelsea.png")), noise...), 0o644)
	empty := filepath.Join(s.gen, "empty.png")
	os.WriteFile(empty, nil, 0o644)
	in := func(name string) string {
		abs, _ := filepath.Abs(filepath.Join("testdata", "prefilter", name))
		return abs
	}

	p := s.open(t, "/")
	p.choose(t, in("corrupt.png"), in("photo.heic"), in("notes.txt"), empty, huge, big, in("anim.webp"))
	p.wait(t, `document.querySelector('#files').dataset.state === 'rejected'`)
	want := []struct{ name, reason, message string }{
		{"corrupt.png", "decode", "“corrupt.png” can’t be uploaded: it could not be read as an image, so the file may be damaged."},
		{"photo.heic", "unsupported", "“photo.heic” can’t be uploaded: HEIC images are not accepted. Please use JPEG, PNG, GIF, WebP or BMP."},
		{"notes.txt", "unsupported", "“notes.txt” can’t be uploaded: it is not an image. Please use JPEG, PNG, GIF, WebP or BMP."},
		{"empty.png", "empty", "“empty.png” can’t be uploaded: the file is empty."},
		{"huge.png", "too-large", "“huge.png” can’t be uploaded: it is too large (the image is 10000x10000 = 100.0 MP, over the 50 MP limit)."},
		{"big.png", "too-large", "“big.png” can’t be uploaded: it is too large (1.5 MB; the limit is 1 MB)."},
		// Chromium decodes animated WebP, but the server does not: refused here too.
		{"anim.webp", "unsupported", "“anim.webp” can’t be uploaded: Animated WebP images are not accepted. Please use JPEG, PNG, GIF, WebP or BMP."},
	}
	fs := p.files(t)
	if len(fs) != len(want) {
		t.Fatalf("files %+v", fs)
	}
	for i, w := range want {
		if f := fs[i]; f.Name != w.name || f.State != "rejected" || f.Reason != w.reason || f.Message != w.message {
			t.Errorf("%s: %+v\n want %+v", w.name, f, w)
		}
	}
	if st := p.text(t, "#status"); !strings.HasPrefix(st, "7 of 7 files can’t be uploaded. Remove or replace them to continue.") {
		t.Errorf("status %q", st)
	}
	if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS("#send"))); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	s.expectUploads(t)

	// The server refuses each of them for the same reason.
	if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS("#bypass"))); err != nil {
		t.Fatal(err)
	}
	p.wait(t, `document.querySelector('#server').dataset.status === '422'`)
	var reasons []string
	p.call(t, `[...document.querySelectorAll('#server li')].map((li) => li.dataset.reason)`, &reasons)
	if got := strings.Join(reasons, ","); got != "decode,unsupported,unsupported,empty,too-large,too-large,unsupported" {
		t.Errorf("server reasons: %s", got)
	}

	// Without the format gate (formats: null), the engine itself meets the
	// HEIC photo, which this browser cannot decode: still "unsupported",
	// and said so.
	var heic struct{ Reason, Message string }
	p.call(t, `(async () => {
		const { checkFiles } = await import('/prefilter/prefilter.js');
		const { createDetector } = await import('/nsfw.js');
		const blob = await (await fetch('/inputs/photo.heic')).blob();
		const [v] = await checkFiles([new File([blob], 'IMG_0001.HEIC')], { detector: createDetector({ worker: false }), formats: null });
		return { reason: v.reason, message: v.message };
	})()`, &heic)
	if heic.Reason != "unsupported" || heic.Message != "“IMG_0001.HEIC” can’t be uploaded: HEIC images can’t be read by this browser. Please use JPEG, PNG, GIF, WebP or BMP." {
		t.Errorf("HEIC through the engine: %+v", heic)
	}
}

// TestPrefilterDragAndDrop drops files on the drop zone as a user would
// (DevTools drag events carrying real files): they are checked like chosen
// ones, and a held submit goes out once the check passes.
func TestPrefilterDragAndDrop(t *testing.T) {
	s := startExample(t, nsfw.Balanced, upload.Config{})
	p := s.open(t, "/")
	box, err := chromedp.Run(p.ctx, chromedp.Dimensions(chromedp.CSS("#drop")))
	if err != nil {
		t.Fatal(err)
	}
	q := box.Content
	x, y := (q[0]+q[2])/2, (q[1]+q[5])/2
	drop := func(paths ...string) {
		t.Helper()
		data := &input.DragData{Items: []*input.DragDataItem{}, Files: paths, DragOperationsMask: 1}
		for _, typ := range []input.DispatchDragEventType{input.DispatchDragEventTypeDragEnter, input.DispatchDragEventTypeDragOver, input.DispatchDragEventTypeDrop} {
			if _, err := chromedp.Call(p.ctx, input.DispatchDragEvent, input.DispatchDragEventParams{Type: typ, X: x, Y: y, Data: data}); err != nil {
				t.Fatalf("%s: %v", typ, err)
			}
		}
	}
	drop(fixturePath("ascent-default-hentai.png"))
	p.wait(t, `document.querySelector('#files').dataset.state === 'rejected'`)
	if fs := p.files(t); len(fs) != 1 || fs[0].Name != "ascent-default-hentai.png" || fs[0].Reason != "nsfw" || !strings.Contains(fs[0].Message, "(Hentai 99%)") {
		t.Fatalf("dropped: %+v", fs)
	}
	var n int
	p.call(t, `document.querySelector('#photos').files.length`, &n)
	if n != 1 {
		t.Errorf("the input holds %d files after the drop", n)
	}
	drop(fixturePath("photo-rocket.png"), fixturePath("illustration-debian-homeworld.png"))
	p.wait(t, `document.querySelector('#files').dataset.state === 'accepted'`)
	if fs := p.files(t); len(fs) != 2 {
		t.Fatalf("dropped: %+v", fs)
	}
	s.expectUploads(t)

	// A submit while the check runs is held, then sent when it passes.
	var held string
	p.call(t, `(async () => {
		const blob = await (await fetch('/fixtures/photo-hubble.png')).blob();
		const dt = new DataTransfer();
		dt.items.add(new File([blob], 'hubble.png', {type: 'image/png'}));
		const input = document.querySelector('#photos');
		input.files = dt.files;
		input.dispatchEvent(new Event('change', {bubbles: true}));
		document.querySelector('#upload').requestSubmit(document.querySelector('#send'));
		return document.querySelector('#status').textContent;
	})()`, &held)
	if held != "Still checking: the form will be sent when the check is done." {
		t.Errorf("status while holding the submit: %q", held)
	}
	p.wait(t, `document.querySelector('#server').dataset.status === '200'`)
	s.expectUploads(t, http.StatusOK)
	if ans := p.text(t, "#server"); !strings.Contains(ans, "hubble.png") {
		t.Errorf("server answer %q", ans)
	}

	// Choosing other files cancels a held submit: the user asked to send
	// the first choice, not the second.
	p.call(t, `(async () => {
		const input = document.querySelector('#photos');
		const choose = async (url, name) => {
			const dt = new DataTransfer();
			dt.items.add(new File([await (await fetch(url)).blob()], name, {type: 'image/png'}));
			input.files = dt.files;
			input.dispatchEvent(new Event('change', {bubbles: true}));
		};
		await choose('/fixtures/photo-cliff.png', 'cliff.png');
		document.querySelector('#upload').requestSubmit();
		await choose('/fixtures/photo-sheep.png', 'sheep.png');
		return true;
	})()`, nil)
	p.wait(t, `document.querySelector('#files').dataset.state === 'accepted' && document.querySelector('.prefilter-name').textContent === 'sheep.png'`)
	time.Sleep(time.Second)
	s.expectUploads(t, http.StatusOK)
}

// TestPrefilterFollowsTheServersPolicy: the page takes its policy from
// the server, so a borderline image (Porn 0.54) is refused by both under
// balanced and accepted by both under lenient.
func TestPrefilterFollowsTheServersPolicy(t *testing.T) {
	for _, c := range []struct {
		policy nsfw.Policy
		state  string
		status int
	}{{nsfw.Balanced, "rejected", http.StatusUnprocessableEntity}, {nsfw.Lenient, "accepted", http.StatusOK}} {
		t.Run(c.policy.String(), func(t *testing.T) {
			s := startExample(t, c.policy, upload.Config{})
			p := s.open(t, "/")
			if pol := p.text(t, "#policy"); !strings.HasPrefix(pol, c.policy.String()+":") {
				t.Errorf("policy shown %q", pol)
			}
			p.choose(t, fixturePath("odd-1200x16.png"))
			p.wait(t, js(`document.querySelector('#files').dataset.state === %v`, c.state))
			if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS("#bypass"))); err != nil {
				t.Fatal(err)
			}
			p.wait(t, js(`document.querySelector('#server').dataset.status === %v`, fmt.Sprint(c.status)))
			s.expectUploads(t, c.status)
		})
	}
}

func fixtureBytes(t *testing.T, name string) []byte {
	b, err := os.ReadFile(fixturePath(name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
