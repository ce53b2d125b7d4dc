package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/nsfw-go/nsfw/upload"
)

// TestPrefilterExampleCommand runs `nsfw serve-example` as a user would
// (built from cmd/nsfw, or the binary named by NSFW_BIN), and checks both
// checks through it: the page's, in Chromium, and the server's, posting
// directly.
func TestPrefilterExampleCommand(t *testing.T) {
	if env.skip != "" {
		t.Skip(env.skip)
	}
	bin := os.Getenv("NSFW_BIN")
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "nsfw")
		build := exec.Command("go", "build", "-o", bin, "./cmd/nsfw")
		build.Dir = env.root
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("building cmd/nsfw: %v\n%s", err, out)
		}
	}
	cmd := exec.Command(bin, "serve-example", "--addr", "127.0.0.1:0", "--web", env.web)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })

	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		lines <- line
		io.Copy(io.Discard, out)
	}()
	var base string
	select {
	case line := <-lines:
		m := regexp.MustCompile(`at (http://127\.0\.0\.1:\d+)/ \(model nsfwjs MobileNetV2, policy balanced;`).FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("first line %q; stderr: %s (is serve-example dispatched in cmd/nsfw/main.go?)", line, stderr.String())
		}
		base = m[1]
	case err := <-exited:
		t.Fatalf("serve-example exited: %v; stderr: %s", err, stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatal("serve-example did not start within a minute")
	}

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/prefilter/example/" {
		t.Errorf("GET /: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, path := range []string{"/prefilter/example/", "/prefilter/prefilter.js", "/nsfw.js", "/nsfw.wasm"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self' 'wasm-unsafe-eval'") {
			t.Errorf("GET %s: %d, CSP %q", path, resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
		}
	}
	var cfg upload.ClientConfig
	getJSON(t, base+"/upload/config", &cfg)
	if cfg.Policy != "balanced" || cfg.Model != "nsfwjs MobileNetV2" || cfg.MaxFileBytes != upload.DefaultMaxFileBytes {
		t.Errorf("config %+v", cfg)
	}

	// Straight to the server, past any browser: the same verdicts.
	for _, c := range []struct {
		file   string
		status int
	}{{"photo-chelsea.png", 200}, {"ascent-default-porn.png", 422}, {"ascent-default-sexy.png", 422}} {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		w, _ := mw.CreateFormFile("photos", c.file)
		w.Write(fixtureBytes(t, c.file))
		mw.Close()
		resp, err := http.Post(base+"/upload", mw.FormDataContentType(), &body)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("%s: %d %s", c.file, resp.StatusCode, msg)
		}
		if c.status == 422 {
			var rep upload.Report
			if json.Unmarshal(msg, &rep) != nil || rep.Files[0].Reason != "nsfw" || rep.Files[0].Filename != c.file {
				t.Errorf("%s: %s", c.file, msg)
			}
		}
	}
	resp, err = http.Post(base+"/upload", "multipart/form-data; boundary=x", strings.NewReader("--x\r\nbroken"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("malformed: %d", resp.StatusCode)
	}

	// In the browser: same policy on both sides, and the NSFW-scored
	// photo refused before upload.
	site := &exampleSite{base: base}
	p := site.open(t, "/")
	var agree string
	p.call(t, `document.body.dataset.agree`, &agree)
	if agree != "true" {
		t.Errorf("the page says: %s", p.text(t, "#engine"))
	}
	p.choose(t, fixturePath("ascent-default-porn.png"))
	p.wait(t, `document.querySelector('#files').dataset.state === 'rejected'`)
	if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS("#send"))); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if ans := p.text(t, "#server"); ans != "Nothing sent yet." {
		t.Errorf("server answer after a blocked submit: %q", ans)
	}
	p.choose(t, fixturePath("photo-chelsea.png"))
	p.wait(t, `document.querySelector('#files').dataset.state === 'accepted'`)
	if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS("#send"))); err != nil {
		t.Fatal(err)
	}
	p.wait(t, `document.querySelector('#server').dataset.status === '200'`)

	// Ctrl-C stops it cleanly.
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit after SIGINT: %v; stderr: %s", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Error("still running 15 s after SIGINT")
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
}
