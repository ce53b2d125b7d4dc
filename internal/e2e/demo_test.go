package e2e

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/nsfw-go/nsfw"
	"github.com/nsfw-go/nsfw/internal/imageio"
)

type card struct {
	Name          string
	Verdict       string
	Top           string
	Hidden        bool
	Probabilities string
	Timing        string
}

const readCards = `[...document.querySelectorAll('.card')].map((li) => ({
	name: li.querySelector('.name').textContent,
	verdict: li.dataset.verdict ?? '',
	top: li.dataset.top ?? '',
	hidden: li.classList.contains('hidden'),
	probabilities: li.dataset.probabilities ?? '',
	timing: li.querySelector('.timing').textContent,
}))`

func waitCards(t *testing.T, p *page, n int) []card {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var cards []card
		p.call(t, readCards, &cards)
		done := 0
		for _, c := range cards {
			if c.Verdict != "" {
				done++
			}
		}
		if len(cards) >= n && done == len(cards) {
			return cards
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %+v", cards)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestDemoPage uses the demo as a person would: pick files, drop one, paste
// one; NSFW thumbnails are blurred until clicked; the policy selector
// re-judges; the numbers match the native engine.
func TestDemoPage(t *testing.T) {
	p := openPage(t, "/demo/")
	fixtures := filepath.Join(env.root, "testdata", "fixtures")
	files := []string{"photo-chelsea.png", "ascent-default-porn.png", "odd-1200x16.png", "drawing-frog.png"}
	var paths []string
	for _, f := range files {
		paths = append(paths, filepath.Join(fixtures, f))
	}
	if err := chromedp.Do(p.ctx, chromedp.SetUploadFiles(chromedp.CSS("#files"), paths)); err != nil {
		t.Fatal(err)
	}
	cards := waitCards(t, p, len(files))

	native, _ := nsfw.Default()
	for _, c := range cards {
		dec, err := imageio.DecodeFile(filepath.Join(fixtures, c.Name), imageio.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := native.Classify(dec.Frames[0])
		var got map[string]float64
		json.Unmarshal([]byte(c.Probabilities), &got)
		for _, cl := range nsfw.Classes {
			if math.Abs(got[cl.String()]-float64(want.Probabilities[cl])) > 1e-4 {
				t.Errorf("%s: %s %.5f on the page, %.5f natively", c.Name, cl, got[cl.String()], want.Probabilities[cl])
			}
		}
		if c.Verdict != want.Verdict.String() || c.Top != want.Top().String() {
			t.Errorf("%s: %s/%s on the page, %s/%s natively", c.Name, c.Verdict, c.Top, want.Verdict, want.Top())
		}
		if c.Hidden != (c.Verdict == "nsfw") {
			t.Errorf("%s: verdict %s but hidden=%v", c.Name, c.Verdict, c.Hidden)
		}
		if !strings.Contains(c.Timing, "ms") {
			t.Errorf("%s: no timing shown: %q", c.Name, c.Timing)
		}
	}

	// The filled bars are drawn, not just the labels.
	var barWidth float64
	p.call(t, `document.querySelector('.card[data-verdict="nsfw"] .bars li[data-class="Porn"] .fill').getBoundingClientRect().width`, &barWidth)
	if barWidth < 20 {
		t.Errorf("the Porn bar of an NSFW card is %.0f px wide", barWidth)
	}

	if os.Getenv("NSFW_UPDATE_SCREENSHOT") == "1" {
		if err := chromedp.Do(p.ctx, chromedp.EmulateViewport(1180, 720)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
		png, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(env.root, "web", "demo", "screenshot.png"), png, 0o644)
	}

	// Click to reveal, click to hide again.
	sel := chromedp.CSS(`.card[data-verdict="nsfw"] .thumb`)
	for _, want := range []bool{false, true} {
		if err := chromedp.Do(p.ctx, chromedp.Click(sel)); err != nil {
			t.Fatal(err)
		}
		var hidden bool
		p.call(t, `document.querySelector('.card[data-verdict="nsfw"]').classList.contains('hidden')`, &hidden)
		if hidden != want {
			t.Fatalf("after click: hidden=%v, want %v", hidden, want)
		}
	}

	// Lenient: the thin strip (Porn 0.54, sum 0.59) is no longer flagged.
	if err := chromedp.Do(p.ctx, chromedp.SetValue(chromedp.CSS("#policy"), "lenient")); err != nil {
		t.Fatal(err)
	}
	p.call(t, `document.querySelector('#policy').dispatchEvent(new Event('change'))`, nil)
	time.Sleep(300 * time.Millisecond)
	var strip card
	var all []card
	p.call(t, readCards, &all)
	for _, c := range all {
		if c.Name == "odd-1200x16.png" {
			strip = c
		}
	}
	if strip.Verdict != "safe" || strip.Hidden {
		t.Errorf("lenient: strip is %s (hidden %v), want safe and shown", strip.Verdict, strip.Hidden)
	}

	// Drop and paste add files the same way.
	for _, ev := range []string{
		`new DragEvent('drop', {dataTransfer: dt, bubbles: true})`,
		`new ClipboardEvent('paste', {clipboardData: dt, bubbles: true})`,
	} {
		p.call(t, `(async () => {
			const blob = await (await fetch('/fixtures/ascent-default-hentai.png')).blob();
			const dt = new DataTransfer();
			dt.items.add(new File([blob], 'hentai.png', {type: 'image/png'}));
			document.dispatchEvent(`+ev+`);
		})()`, nil)
	}
	cards = waitCards(t, p, len(files)+2)
	for _, c := range cards[len(files):] {
		if c.Name != "hentai.png" || c.Verdict != "nsfw" || c.Top != "Hentai" || !c.Hidden {
			t.Errorf("dropped/pasted: %+v", c)
		}
	}
	var status string
	p.call(t, `document.querySelector('#status').textContent`, &status)
	if !strings.Contains(status, "6 images classified on this device") {
		t.Errorf("status %q", status)
	}
	if errs := p.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}

// TestDemoFeedback: every input gets an answer on the demo. A file that is
// not an image is named in the status; a file that cannot be decoded gets
// an error card showing the error (no empty bars) and is counted in the
// status; at a phone's width (390 px) the cards stay inside the drop zone
// and nothing scrolls sideways; the footer names the weights and their
// license, not how they were converted.
func TestDemoFeedback(t *testing.T) {
	p := openPage(t, "/demo/")
	var footer string
	p.call(t, `document.querySelector('footer').textContent`, &footer)
	if strings.Contains(footer, "BatchNorm") || !strings.Contains(footer, "MIT") || !strings.Contains(footer, "Infinite Red") {
		t.Errorf("footer %q: want the weights' name and license, not conversion details", footer)
	}

	// drop dispatches a drop of files made in the page: name, type, and a
	// fixture to fetch (cut to half its bytes when half is set) or text.
	type file struct {
		Name, Type, Fixture, Text string
		Half                      bool
	}
	drop := func(files ...file) {
		p.call(t, js(`(async (files) => {
			const dt = new DataTransfer();
			for (const f of files) {
				let body = f.Text;
				if (f.Fixture) {
					const b = await (await fetch('/fixtures/' + f.Fixture)).arrayBuffer();
					body = f.Half ? b.slice(0, b.byteLength / 2) : b;
				}
				dt.items.add(new File([body], f.Name, {type: f.Type}));
			}
			document.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true}));
		})(%v)`, files), nil)
	}
	status := func() string {
		var s string
		p.call(t, `document.querySelector('#status').textContent`, &s)
		return s
	}

	drop(file{Name: "notes.txt", Type: "text/plain", Text: "not an image"})
	if s := status(); !strings.Contains(s, "notes.txt") || !strings.Contains(s, "not an image") {
		t.Errorf("after dropping a text file, the status is %q", s)
	}

	drop(file{Name: "broken.png", Type: "image/png", Fixture: "photo-coffee.png", Half: true},
		file{Name: "sheep.png", Type: "image/png", Fixture: "photo-sheep.png"})
	cards := waitCards(t, p, 2)
	var broken card
	for _, c := range cards {
		if c.Name == "broken.png" {
			broken = c
		}
	}
	if broken.Verdict != "error" || broken.Timing == "" {
		t.Errorf("broken file: %+v, want an error card with the error", broken)
	}
	var barsShown bool
	p.call(t, `(() => { const b = document.querySelector('.card.error .bars'); return !!b && b.getBoundingClientRect().height > 0; })()`, &barsShown)
	if barsShown {
		t.Error("the error card shows (empty) probability bars")
	}
	s := status()
	for _, want := range []string{"1 image classified", "1 could not be read", "notes.txt"} {
		if !strings.Contains(s, want) {
			t.Errorf("status %q lacks %q", s, want)
		}
	}

	// A phone's width.
	if err := chromedp.Do(p.ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	var layout struct {
		Overflow    []string // cards sticking out of the drop zone, by px
		ScrollWidth float64
	}
	p.call(t, `new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => {
		const drop = document.querySelector('#drop');
		const d = drop.getBoundingClientRect();
		const cs = getComputedStyle(drop);
		const inner = { left: d.left + parseFloat(cs.borderLeftWidth), right: d.right - parseFloat(cs.borderRightWidth) };
		const overflow = [];
		for (const el of document.querySelectorAll('.card')) {
			const r = el.getBoundingClientRect();
			const out = Math.max(r.right - inner.right, inner.left - r.left);
			if (out > 0.5) overflow.push(el.querySelector('.name').textContent + ': ' + out.toFixed(1) + ' px');
		}
		done({ overflow, scrollWidth: document.documentElement.scrollWidth });
	})))`, &layout)
	if len(layout.Overflow) > 0 || layout.ScrollWidth > 390 {
		t.Errorf("at 390 px: cards out of the drop zone %v, page %v px wide", layout.Overflow, layout.ScrollWidth)
	}
	if errs := p.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}
