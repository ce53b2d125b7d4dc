package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// waitElements polls the page's elements until ok accepts them.
func (p *extPage) waitElements(t *testing.T, what string, ok func(map[string]element) bool) map[string]element {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		els := p.elements(t)
		if ok(els) {
			return els
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v", what, describeFull(els))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func describeFull(els map[string]element) string {
	var s []string
	for id, e := range els {
		s = append(s, fmt.Sprintf("%s=%s/%s", id, e.State, e.Filter))
	}
	return strings.Join(s, " ")
}

// topSettled says whether the elements above the lazy section (in view
// without scrolling) have their verdicts.
func topSettled(els map[string]element) bool {
	for _, e := range els {
		if e.Y < 2000 && (e.State == "" || e.State == "pending") {
			return false
		}
	}
	return len(els) > 0
}

func is(id, state, filter string) func(map[string]element) bool {
	return func(els map[string]element) bool {
		e := els[id]
		return e.State == state && e.Filter == filter
	}
}

// TestExtensionSettings drives the settings page (the popup and options
// page) as a user would, and checks that each setting acts on an open page
// at once: the allowlist and the on/off switch turn filtering off, the
// strictness presets re-judge, hide replaces blur, fail-open shows the image
// that could not be classified.
func TestExtensionSettings(t *testing.T) {
	useExtension(t)
	resetSettings(t)
	p := openExtPage(t, "/index.html")
	p.waitElements(t, "the verdicts", topSettled)
	sp, closeSettings := settingsPage(t)
	defer closeSettings()
	click := func(sel string) {
		t.Helper()
		if err := chromedp.Do(sp.ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
			t.Fatalf("clicking %s: %v", sel, err)
		}
	}

	// Allowlisted: nothing is covered, on the open page and after a reload.
	if err := chromedp.Do(sp.ctx, chromedp.SendKeys(chromedp.CSS("#allow-host"), "http://127.0.0.1/x\n")); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		var list string
		sp.call(t, `document.querySelector('#allowlist').textContent`, &list)
		if strings.Contains(list, "127.0.0.1") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the allowlist shows %q", list)
		}
		time.Sleep(50 * time.Millisecond)
	}
	uncovered := func(els map[string]element) bool {
		for _, e := range els {
			if e.Filter != "none" {
				return false
			}
		}
		return true
	}
	p.waitElements(t, "allowlisted: everything shown", uncovered)
	p.navigate(t, "/index.html")
	time.Sleep(time.Second)
	els := p.waitElements(t, "allowlisted, reloaded: everything shown", uncovered)
	for id, e := range els {
		if e.State != "" {
			t.Errorf("allowlisted: %s was judged (%s)", id, e.State)
		}
	}

	// Removed from the allowlist: judged again.
	click(`#allowlist button`)
	p.waitElements(t, "filtering again", is("nsfw-porn", "nsfw", "blur(32px) saturate(0.4)"))
	p.waitElements(t, "the verdicts", topSettled)

	// The thin strip scores Porn 0.54: NSFW for balanced, not for lenient.
	click(`input[name="preset"][value="lenient"]`)
	p.waitElements(t, "lenient", is("strip", "safe", "none"))
	click(`input[name="preset"][value="strict"]`)
	p.waitElements(t, "strict", is("strip", "nsfw", "blur(32px) saturate(0.4)"))

	click(`input[name="mode"][value="hide"]`)
	p.waitElements(t, "hidden", is("nsfw-porn", "nsfw", "opacity(0)"))
	p.waitElements(t, "hidden, error", is("x-hotlink", "error", "opacity(0)"))
	click(`input[name="failMode"][value="open"]`)
	p.waitElements(t, "fail-open", is("x-hotlink", "error", "none"))

	click(`#enabled`)
	p.waitElements(t, "switched off: everything shown", uncovered)
	click(`#enabled`)
	p.waitElements(t, "switched on", is("nsfw-porn", "nsfw", "opacity(0)"))

	resetSettings(t)
	if errs := p.consoleErrors(); len(errs) > 0 {
		t.Errorf("page console: %v", errs)
	}
	if errs := sp.consoleErrors(); len(errs) > 0 {
		t.Errorf("settings page console: %v", errs)
	}
	p.checkRequests(t)
	checkExtensionErrors(t, "/hotlink/")
}

// TestExtensionEngineComesBack closes the offscreen document, as Chrome
// may: the service worker creates it again on the next request.
func TestExtensionEngineComesBack(t *testing.T) {
	useExtension(t)
	resetSettings(t)
	sp, closeSettings := settingsPage(t)
	sp.call(t, `chrome.offscreen.closeDocument().then(() => true, (e) => e.message)`, nil)
	closeSettings()
	p := openExtPage(t, "/index.html?again")
	els := p.waitElements(t, "the verdicts", topSettled)
	for _, id := range []string{"nsfw-porn", "x-nsfw-hentai", "safe-photo", "x-safe-sheep"} {
		if e := els[id]; e.State != e.Expect {
			t.Errorf("%s: %s, want %s (%s)", id, e.State, e.Expect, e.Error)
		}
	}
	checkExtensionErrors(t, "/hotlink/")
}

// openPopup opens the toolbar button's popup over the active tab, as a
// click on the button does, and attaches to it.
func openPopup(t *testing.T) (*page, func()) {
	t.Helper()
	sw, cancel := chromedp.NewContext(ext.browser, chromedp.WithTargetID(ext.worker))
	defer cancel()
	if _, err := chromedp.Run(sw, chromedp.Evaluate[any](`chrome.action.openPopup()`, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatalf("opening the popup: %v", err)
	}
	popup := "chrome-extension://" + ext.id + "/settings.html"
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		infos, err := chromedp.Targets(ext.browser)
		if err != nil {
			t.Fatal(err)
		}
		for _, info := range infos {
			if info.URL == popup && !info.Attached {
				ctx, cancel := chromedp.NewContext(ext.browser, chromedp.WithTargetID(info.TargetID))
				p := consolePage(ctx)
				if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#allow-form"))); err != nil {
					cancel()
					t.Fatal(err)
				}
				return p, cancel
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no popup among %s", describeTargets(infos))
		}
	}
}

// TestExtensionPopup uses the popup over a filtered page: it names the
// site, shows the tab's count, and its switch allowlists the site and
// back.
func TestExtensionPopup(t *testing.T) {
	useExtension(t)
	resetSettings(t)
	p := openExtPage(t, "/index.html")
	els := p.waitElements(t, "the verdicts", topSettled)
	covered := 0
	for _, e := range els {
		if e.State == "nsfw" || e.State == "error" {
			covered++
		}
	}
	time.Sleep(500 * time.Millisecond) // the frame's verdicts, the count's debounce
	popup, closePopup := openPopup(t)
	defer closePopup()
	var shown struct {
		Host, Count string
		Checked     bool
	}
	popup.call(t, `({host: document.querySelector('#site-host').textContent,
		count: document.querySelector('#count').textContent,
		checked: document.querySelector('#site').checked})`, &shown)
	if shown.Host != "127.0.0.1" || !shown.Checked || !strings.HasSuffix(shown.Count, " images filtered on this tab.") {
		t.Errorf("the popup shows %+v", shown)
	}
	var n int
	fmt.Sscanf(shown.Count, "%d", &n)
	if n < covered {
		t.Errorf("the popup counts %d, the page alone covers %d", n, covered)
	}

	if err := chromedp.Do(popup.ctx, chromedp.Click(chromedp.CSS("#site"))); err != nil {
		t.Fatal(err)
	}
	p.waitElements(t, "the site switched off", func(els map[string]element) bool {
		for _, e := range els {
			if e.Filter != "none" {
				return false
			}
		}
		return true
	})
	if err := chromedp.Do(popup.ctx, chromedp.Click(chromedp.CSS("#site"))); err != nil {
		t.Fatal(err)
	}
	p.waitElements(t, "the site switched on", is("nsfw-porn", "nsfw", "blur(32px) saturate(0.4)"))
	if errs := popup.consoleErrors(); len(errs) > 0 {
		t.Errorf("popup console: %v", errs)
	}
	resetSettings(t)
}
