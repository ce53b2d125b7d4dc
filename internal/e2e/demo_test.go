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
