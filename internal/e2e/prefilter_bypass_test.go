package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/nsfw-go/nsfw"
	"github.com/nsfw-go/nsfw/upload"
)

// The ways a page's files reached the server past the browser check
// (issue 11, item 11), each now checked at submission. The server is the
// guarantee either way: these tests show what the page itself sends.

// setFiles is page JS: put fixtures in a file input from script, as a
// paste handler does, without a change event.
const setFiles = `async (input, names) => {
	const dt = new DataTransfer();
	for (const name of names) dt.items.add(new File([await (await fetch('/fixtures/' + name)).blob()], name, {type: 'image/png'}));
	input.files = dt.files;
}`

// reload opens the example afresh.
func (p *page) reload(t *testing.T, s *exampleSite) {
	t.Helper()
	if err := chromedp.Do(p.ctx, chromedp.Navigate(s.base+"/"), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`))); err != nil {
		t.Fatal(err)
	}
}

func TestPrefilterChecksWhatIsSubmitted(t *testing.T) {
	s := startExample(t, nsfw.Balanced, upload.Config{})
	p := s.open(t, "/")

	t.Run("files set from script, then Upload", func(t *testing.T) {
		p.call(t, `(async () => { await (`+setFiles+`)(document.querySelector('#photos'), ['ascent-default-porn.png']); return true })()`, nil)
		if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS("#send"))); err != nil {
			t.Fatal(err)
		}
		p.wait(t, `document.querySelector('#files').dataset.state === 'rejected'`)
		time.Sleep(500 * time.Millisecond)
		s.expectUploads(t) // nothing sent
		if fs := p.files(t); len(fs) != 1 || fs[0].Reason != "nsfw" {
			t.Errorf("files %+v", fs)
		}
		// A safe file set the same way is checked, then sent.
		p.call(t, `(async () => { await (`+setFiles+`)(document.querySelector('#photos'), ['photo-rocket.png']); return true })()`, nil)
		if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS("#send"))); err != nil {
			t.Fatal(err)
		}
		p.wait(t, `document.querySelector('#server').dataset.status === '200'`)
		s.expectUploads(t, http.StatusOK)
	})

	t.Run("new FormData(form)", func(t *testing.T) {
		p.reload(t, s)
		var got struct {
			Before, After   []string
			Removed, Status int
		}
		p.call(t, `(async () => {
			const form = document.querySelector('#upload'), input = document.querySelector('#photos');
			let removed = 0;
			form.addEventListener('prefilter-removed', (e) => { removed += e.detail.files.length; });
			await (`+setFiles+`)(input, ['ascent-default-porn.png', 'photo-rocket.png']);
			const names = (fd) => fd.getAll('photos').map((f) => f.name).filter(Boolean);
			const before = names(new FormData(form)); // nothing checked yet: nothing kept
			const res = await fetch('/upload', {method: 'POST', body: new FormData(form)});
			input.dispatchEvent(new Event('change', {bubbles: true}));
			await new Promise((r) => input.addEventListener('prefilter', (e) => e.detail.state !== 'checking' && r(), {once: false}));
			const after = names(new FormData(form)); // checked: the accepted file is kept
			return {before, after, removed, status: res.status};
		})()`, &got)
		if len(got.Before) != 0 || strings.Join(got.After, ",") != "photo-rocket.png" || got.Removed < 2 {
			t.Errorf("FormData before the check %v, after %v; %d files removed", got.Before, got.After, got.Removed)
		}
		// The fetch sent the form without its files: the example's
		// application answers 400 (no image), the guard saw nothing to check.
		if got.Status != http.StatusBadRequest {
			t.Errorf("fetch: %d", got.Status)
		}
		s.expectUploads(t, http.StatusOK, http.StatusBadRequest)
	})

	t.Run("form.submit()", func(t *testing.T) {
		p.reload(t, s)
		p.call(t, `(async () => {
			await (`+setFiles+`)(document.querySelector('#photos'), ['ascent-default-hentai.png']);
			document.querySelector('#upload').submit(); // no submit event, no validation
			return true;
		})()`, nil)
		waitUploads(t, s, 3)
		// Sent without the file: the application found no image.
		s.expectUploads(t, http.StatusOK, http.StatusBadRequest, http.StatusBadRequest)
	})

	t.Run("an input added later", func(t *testing.T) {
		p.reload(t, s)
		var state string
		p.call(t, `(async () => {
			const form = document.querySelector('#upload');
			const extra = document.createElement('input');
			extra.type = 'file';
			extra.name = 'more';
			form.append(extra);
			await (`+setFiles+`)(extra, ['ascent-default-sexy.png']);
			document.querySelector('#upload').requestSubmit(document.querySelector('#send'));
			return document.querySelector('#status').textContent;
		})()`, &state)
		if state != "Still checking: the form will be sent when the check is done." {
			t.Errorf("status after the submit: %q", state)
		}
		time.Sleep(3 * time.Second) // the check finishes; the held submit must not go
		s.expectUploads(t, http.StatusOK, http.StatusBadRequest, http.StatusBadRequest)
		// With a safe file, the held submit goes once it is checked.
		p.call(t, `(async () => {
			const extra = document.querySelector('input[name=more]');
			await (`+setFiles+`)(extra, ['photo-hubble.png']);
			document.querySelector('#upload').requestSubmit(document.querySelector('#send'));
			return true;
		})()`, nil)
		p.wait(t, `document.querySelector('#server').dataset.status === '200' && document.querySelector('#server').textContent.includes('photo-hubble.png')`)
		s.expectUploads(t, http.StatusOK, http.StatusBadRequest, http.StatusBadRequest, http.StatusOK)
	})
}

// waitUploads waits until the server has seen n uploads.
func waitUploads(t *testing.T, s *exampleSite, n int) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); len(s.posts()) < n; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the server saw %v, want %d uploads", s.posts(), n)
		}
	}
}
