package e2e

// The extension's figures for BENCHMARKS.md (make bench-extension):
//
//	go test -run='^$' -bench=Extension -benchtime=5x ./internal/e2e/
//
// Each iteration opens a page of 100 images (testdata/extsite/bench.html:
// 160 px thumbnails of 200–224 px fixtures, half cross-origin, one in ten
// NSFW-scored, every URL new so that no verdict comes from the cache) and
// reports the time from navigation until every image has its verdict, the
// page's own load time for comparison, and the memory (proportional set
// size) of the extension's processes: the service worker and the offscreen
// document with its engine workers share one renderer process.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/systeminfo"
	"github.com/chromedp/chromedp"
)

// benchStarted is set once the engine has run: the first page of a test
// binary also measures the engine's cold start.
var benchStarted bool

func BenchmarkExtensionImagePage(b *testing.B) {
	useExtension(b)
	if !benchStarted {
		b.Logf("extension processes before any page (service worker only): %.0f MB", extensionMemoryMB(b))
		all, load, mb := benchPage(b, fmt.Sprintf("cold-%d", time.Now().UnixNano()))
		b.Logf("cold engine: all 100 classified %.0f ms after navigation (page load event %.0f ms); extension memory peak %.0f MB", all, load, mb)
		benchStarted = true
	}
	b.ResetTimer()
	var sumAll, sumLoad, peak float64
	for i := 0; i < b.N; i++ {
		all, load, mb := benchPage(b, fmt.Sprintf("%d-%d", time.Now().UnixNano(), i))
		b.Logf("run %d: all 100 classified %.0f ms after navigation (page load event %.0f ms); extension memory peak %.0f MB", i, all, load, mb)
		sumAll += all
		sumLoad += load
		peak = max(peak, mb)
	}
	b.Logf("extension processes after the runs, engine up: %.0f MB", extensionMemoryMB(b))
	b.ReportMetric(sumAll/float64(b.N), "ms-all-classified")
	b.ReportMetric(sumLoad/float64(b.N), "ms-page-load")
	b.ReportMetric(peak, "MB-extension-peak")
}

// benchPage loads one 100-image page and returns the milliseconds until
// all are classified and until the load event, and the peak memory of the
// extension's processes meanwhile.
func benchPage(b *testing.B, run string) (allMS, loadMS, peakMB float64) {
	ctx, cancel := chromedp.NewContext(ext.browser)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	defer cancelTimeout()
	if err := chromedp.Do(ctx); err != nil { // opens the tab
		b.Fatal(err)
	}

	var mu sync.Mutex
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // sample the memory until the page is done
		defer wg.Done()
		for {
			mb := extensionMemoryMB(b)
			mu.Lock()
			peakMB = max(peakMB, mb)
			mu.Unlock()
			select {
			case <-done:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	defer func() {
		close(done)
		wg.Wait()
	}()

	if err := chromedp.Do(ctx, chromedp.Navigate(ext.site+"/bench.html?n=100&run="+run)); err != nil {
		b.Fatal(err)
	}
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var r struct {
			Settled map[string]float64
			States  map[string]int
			Load    float64
		}
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](`({
			settled: watch.settled,
			states: [...document.querySelectorAll('img')].reduce((m, el) => {
				const s = el.getAttribute('data-nsfw-state') ?? 'none';
				m[s] = (m[s] ?? 0) + 1;
				return m;
			}, {}),
			load: performance.getEntriesByType('navigation')[0]?.loadEventEnd ?? 0,
		})`))
		if err != nil {
			b.Fatal(err)
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			b.Fatal(err)
		}
		if len(r.Settled) == 100 {
			for _, ms := range r.Settled {
				allMS = max(allMS, ms)
			}
			if r.States["nsfw"] != 10 || r.States["safe"] != 90 {
				b.Errorf("verdicts %v, want 10 nsfw and 90 safe", r.States)
			}
			return allMS, r.Load, peakMB
		}
		if time.Now().After(deadline) {
			b.Fatalf("not all classified: %v", r.States)
		}
	}
}

// extensionMemoryMB sums the proportional set size of the extension's
// renderer processes (Chromium starts them with --extension-process).
func extensionMemoryMB(b testing.TB) float64 {
	info, err := chromedp.CallBrowser(ext.browser, systeminfo.GetProcessInfo, cdp.Empty{})
	if err != nil {
		b.Error(err)
		return 0
	}
	var kb float64
	for _, p := range info.ProcessInfo {
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p.ID))
		if err != nil || !strings.Contains(string(cmdline), "--extension-process") {
			continue
		}
		kb += pssKB(p.ID)
	}
	return kb / 1024
}

func pssKB(pid int64) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if fields := strings.Fields(s.Text()); len(fields) >= 2 && fields[0] == "Pss:" {
			v, _ := strconv.ParseFloat(fields[1], 64)
			return v
		}
	}
	return 0
}
