// Command web measures this project in the browser side by side with
// nsfwjs, in one headless Chromium run, and prints (or appends to
// BENCHMARKS.md) tables of the results and of our ratios to each peer:
//
//	go run ./build/bench/web [-runs 30] [-append BENCHMARKS.md]    (make bench-web)
//
// It compares, on the same MobileNetV2 weights (nsfwjs@4.4.0's) and the
// same 224×224 canvas (testdata/fixtures/photo-chelsea.png drawn scaled):
//
//   - this project with its SIMD128 kernels (createDetector() as shipped;
//     the output says so when kernels.wasm has not been built and the Go
//     kernels run instead);
//   - this project with its pure-Go kernels (createDetector({kernelsURL: null}));
//   - nsfwjs@4.4.0 on TF.js 4.22's wasm backend, SIMD, one thread; and on a
//     cross-origin-isolated page (COOP same-origin, COEP require-corp, so
//     SharedArrayBuffer exists) the same backend with -threads XNNPACK
//     threads (TF.js caps them at navigator.hardwareConcurrency/2, so that
//     page is told 2×threads);
//   - nsfwjs on TF.js's cpu backend (pure JS; fewer runs, it is slow).
//
// For each it reports
//
//   - warm latency of classify(canvas), the whole API call, median and
//     p10–p90 after warm-up, with the variants interleaved in rounds so that
//     noise on a shared machine hits them alike (ours also reports the
//     engine's own time inside its worker);
//   - cold start: navigation start to the first result (performance.now()
//     on a fresh page), the median of fresh loads, each in a new browser
//     context (its own renderer and empty HTTP cache) with the cache
//     disabled, broken down into phases;
//   - the bytes the page requested to get there, as the server logged them:
//     each file's raw, gzip -9 and brotli 11 sizes (the server sends those
//     very variants, as make web's precompressed files are sent);
//   - the WebAssembly memory after 100 images: for ours, the byte length of
//     the Go instance's WebAssembly.Memory (which the SIMD kernels share) in
//     a main-thread engine ({worker: false}), since the worker's instance is
//     out of reach; for TF.js's wasm backend, its Emscripten heap
//     (tf.backend().wasm.HEAPU8.byteLength). The cpu backend has none.
//
// and also throughput (classifyMany on 100 canvases with 1, 2 and 4
// workers, images/s), the whole-model GMAC/s of our SIMD kernels
// (detector.info.macs ÷ median latency), and whether the nsfwjs page works
// under the product's strict CSP.
//
// Our pages are served by internal/webserve as shipped (strict CSP, wasm
// MIME type, brotli), from a folder built by internal/webbuild. nsfwjs is
// served by the same handler from a copy of what it needs from
// build/node_modules (run cd build && npm ci), loaded as a bundler would
// resolve it: TF.js's ES module build, nsfwjs's ES modules, an import map
// for bare names, and nsfwjs's bundled model scripts. It is benchmark-only
// and never part of the product. Every request goes through a proxy that
// forwards only to the local server; the run fails if a page asks for
// anything off 127.0.0.1. The pages are in pages/; -serve serves them
// for a look in a browser.
//
// A run takes about two minutes, plus about 20 s the first time to
// compress the served files at brotli 11 (cached in build/cache/bench-web).
package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
)

type config struct {
	runs, cpuRuns, rounds, warmup, cold, images, threads int
	workers                                              []int
	appendTo, chromium, serve                            string
	verbose                                              bool
}

func main() {
	var c config
	var workers string
	flag.IntVar(&c.runs, "runs", 30, "timed warm runs per engine")
	flag.IntVar(&c.cpuRuns, "cpu-runs", 5, "timed warm runs on TF.js's cpu backend (1–2.5 s each)")
	flag.IntVar(&c.rounds, "rounds", 5, "interleaved rounds the warm runs are split into")
	flag.IntVar(&c.warmup, "warmup", 10, "untimed runs before timing (1 on the cpu backend), so that V8 has tiered the hot wasm code up")
	flag.IntVar(&c.cold, "cold", 9, "fresh page loads per engine for the cold start (their median is reported; with 3 it moved by ±15%)")
	flag.IntVar(&c.images, "images", 100, "images for the memory figure and the throughput batch")
	flag.IntVar(&c.threads, "threads", runtime.NumCPU(), "XNNPACK threads for TF.js's threaded wasm backend")
	flag.StringVar(&workers, "workers", "1,2,4", "worker counts for the throughput mode")
	flag.StringVar(&c.appendTo, "append", "", "append the results to this markdown file (BENCHMARKS.md)")
	flag.StringVar(&c.chromium, "chromium", "", "Chromium binary (default $NSFW_CHROMIUM or Debian's /usr/lib/chromium/chromium)")
	flag.BoolVar(&c.verbose, "v", false, "print the pages' console")
	flag.StringVar(&c.serve, "serve", "", "only serve the benchmark pages on this address (such as 127.0.0.1:8090), to open them in a browser")
	flag.Parse()
	for _, w := range strings.Split(workers, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil || n < 1 {
			fatal(fmt.Errorf("-workers %q: want a list like 1,2,4", workers))
		}
		c.workers = append(c.workers, n)
	}
	if c.runs < 1 || c.cpuRuns < 1 || c.rounds < 1 || c.cold < 1 || c.images < 1 {
		fatal(errors.New("-runs, -cpu-runs, -rounds, -cold and -images must be at least 1"))
	}
	if err := run(c); err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench-web:", err)
	os.Exit(1)
}

var began = time.Now()

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench-web %3.0fs: "+format+"\n", append([]any{time.Since(began).Seconds()}, args...)...)
}

// variant is one engine configuration, with the page that runs it.
type variant struct {
	key  string // short name in the ratio table
	name string
	path string // page path and query on the site
	ours bool
	slow bool // TF.js's cpu backend: fewer runs
	// concurrency, if positive, is the navigator.hardwareConcurrency the
	// page sees. TF.js gives XNNPACK at most hardwareConcurrency/2 threads
	// (it assumes two hyperthreads per core), so on a 2-core machine its
	// threaded backend would run one thread: the page is told 2×threads.
	concurrency int
}

// coldResult is what a page reports when its first result is in; times
// are ms since navigation start.
type coldResult struct {
	ScriptMs, ReadyMs, BackendMs, ModelMs, FirstMs, DownloadsMs float64
	Kernels                                                     string
	Macs                                                        float64
	Backend                                                     string
	Threads                                                     int
	CrossOriginIsolated                                         bool
	Probabilities                                               map[string]float64
	Hash                                                        string
	Violations                                                  []string
	Visibility                                                  string
}

type memResult struct {
	InitBytes, Bytes, TensorBytes int64
	Images, Tensors               int
	Kernels                       string
}

type result struct {
	v       variant
	err     error // the variant could not run; its cells are n/a
	cold    []coldResult
	served  []served // the first cold load's requests
	offsite []string
	warm    []float64 // ms, sorted
	engine  []float64 // ours: engine ms inside the worker, sorted
	graph   []float64 // peers: the graph alone (predict on a ready tensor), sorted
	kernels int       // peers: kernels dispatched per inference
	mem     *memResult
	strict  string // peers: outcome under the product's CSP
}

func run(c config) error {
	root, err := findRoot()
	if err != nil {
		return err
	}
	if err := checkNodeModules(root); err != nil {
		return err
	}
	chromium := chromiumPath(c.chromium)
	if c.chromium != "" && chromium != c.chromium {
		return fmt.Errorf("-chromium %s: no such file", c.chromium)
	}
	if chromium == "" && c.serve == "" {
		return errors.New("Chromium is not installed: apt-get install chromium (or build/ensure-chromium.sh), or pass -chromium / set NSFW_CHROMIUM")
	}
	tmp, err := os.MkdirTemp("", "nsfw-bench-web-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	loadStart := loadAverage()
	progress("building the web folder and compressing what is served (cached in build/cache/bench-web)...")
	st, err := stage(root, filepath.Join(tmp, "site"))
	if err != nil {
		return err
	}
	srv := newServer(st)
	if c.serve != "" {
		return serveOnly(c.serve, srv, variants(c))
	}
	siteServer := httptest.NewServer(srv)
	defer siteServer.Close()
	base := siteServer.URL
	target, _ := url.Parse(base)
	rec := &recorder{}
	proxy := httptest.NewServer(rec.handler(target))
	defer proxy.Close()

	browserCtx, stop, err := startBrowser(chromium, filepath.Join(tmp, "profile"), proxy.URL)
	if err != nil {
		return err
	}
	defer stop()
	version, err := chromedp.CallBrowser(browserCtx, browser.GetVersion, cdp.Empty{})
	if err != nil {
		return err
	}

	vs := variants(c)
	results := make([]*result, len(vs))
	for i, v := range vs {
		results[i] = &result{v: v}
	}
	b := &bench{c: c, base: base, browser: browserCtx, srv: srv}

	progress("cold starts: %d fresh loads of each page...", c.cold)
	b.coldStarts(results)
	progress("warm latency: %d runs each (%d on the cpu backend) in %d interleaved rounds...", c.runs, c.cpuRuns, c.rounds)
	b.warmRuns(results)
	progress("throughput: classifyMany on %d canvases with %v workers...", c.images, c.workers)
	tput, tputErr := b.throughput()
	progress("the nsfwjs page under the product's CSP...")
	b.strictCSP(results)

	// Nothing may have left 127.0.0.1.
	rec.mu.Lock()
	fromPage, background := slices.Clone(rec.fromPage), len(rec.offsite)-len(rec.fromPage)
	rec.mu.Unlock()
	for _, r := range results {
		fromPage = append(fromPage, r.offsite...)
	}

	rep := report(c, st, results, tput, tputErr, fromPage, background)
	rep += fmt.Sprintf("\nMachine load (1-minute load average) at start %s, at end %s, on %d cores.\n", loadStart, loadAverage(), runtime.NumCPU())
	fmt.Print(rep)
	progress("done in %s", time.Since(began).Round(time.Second))
	if len(fromPage) > 0 {
		return fmt.Errorf("pages made requests off 127.0.0.1: %v", fromPage)
	}
	if c.appendTo != "" {
		if err := appendSection(c.appendTo, rep, version.Product); err != nil {
			return err
		}
		progress("appended to %s", c.appendTo)
	}
	for _, r := range results {
		if r.v.ours && r.err != nil {
			return fmt.Errorf("%s: %v", r.v.name, r.err)
		}
	}
	return nil
}

// variants are the engines compared, in table order.
func variants(c config) []variant {
	return []variant{
		{key: "ours-SIMD", name: "this project, SIMD kernels", path: "/pages/ours.html", ours: true},
		{key: "ours-Go", name: "this project, pure-Go kernels", path: "/pages/ours.html?kernels=go", ours: true},
		{key: "nsfwjs-wasm", name: "nsfwjs, TF.js wasm (SIMD, 1 thread)", path: prefixOpen + "/pages/nsfwjs.html?backend=wasm&threads=1"},
		{key: "nsfwjs-wasm-mt", name: fmt.Sprintf("nsfwjs, TF.js wasm (SIMD, %d threads)", c.threads), path: prefixIsolated + "/pages/nsfwjs.html?backend=wasm&threads=" + strconv.Itoa(c.threads), concurrency: 2 * c.threads},
		{key: "nsfwjs-cpu", name: "nsfwjs, TF.js cpu", path: prefixOpen + "/pages/nsfwjs.html?backend=cpu", slow: true},
	}
}

// serveOnly serves the site until interrupted, for looking at the pages
// in a browser.
func serveOnly(addr string, srv *server, vs []variant) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	for _, v := range vs {
		fmt.Printf("%-15s http://%s%s\n", v.key, ln.Addr(), v.path)
	}
	fmt.Println("(window.bench.cold holds the cold start; see build/bench/web/pages/*.js for window.bench's methods. The benchmark")
	fmt.Println("tells the threaded page navigator.hardwareConcurrency = 2×threads, see variant.concurrency. Ctrl-C stops.)")
	hs := &http.Server{Handler: srv}
	go func() {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
		<-stop
		hs.Close()
	}()
	if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// loadTimeout bounds a page's cold start.
const loadTimeout = 2 * time.Minute

type bench struct {
	c       config
	base    string
	browser context.Context
	srv     *server
}

// coldStarts loads every page c.cold times, each time fresh, rotating the
// order each round.
func (b *bench) coldStarts(results []*result) {
	for round := range b.c.cold {
		for i := range results {
			r := results[(i+round)%len(results)]
			if r.err != nil {
				continue
			}
			t, err := openTab(b.browser, b.c.verbose, r.v.concurrency)
			if err != nil {
				r.err = err
				continue
			}
			mark := b.srv.mark()
			var cr coldResult
			err = t.load(b.base+r.v.path, loadTimeout, &cr)
			log := b.srv.since(mark)
			r.offsite = append(r.offsite, t.offsite(b.base)...)
			t.close()
			if err != nil {
				r.err = err
				progress("  %s: %v", r.v.key, err)
				continue
			}
			if r.served == nil {
				r.served = log
			}
			r.cold = append(r.cold, cr)
		}
	}
}

// warmRuns opens one page per variant, warms each up, then times them in
// rounds: each round runs a share of every variant's runs, in a rotating
// order, so that a noisy neighbour slows all of them alike. Then the
// per-inference details and the memory after c.images images.
func (b *bench) warmRuns(results []*result) {
	tabs := map[*result]*tab{}
	defer func() {
		for _, t := range tabs {
			t.close()
		}
	}()
	for _, r := range results {
		if r.err != nil {
			continue
		}
		t, err := openTab(b.browser, b.c.verbose, r.v.concurrency)
		if err == nil {
			var cr coldResult
			if err = t.load(b.base+r.v.path, loadTimeout, &cr); err == nil {
				err = t.call(fmt.Sprintf("bench.warm(%d, %t)", b.warmupRuns(r), graphRuns(r)), nil)
			}
		}
		if err != nil {
			r.err = err
			if t != nil {
				t.close()
			}
			continue
		}
		tabs[r] = t
	}
	progress("  pages open and warm; timing...")
	for round := range b.c.rounds {
		for i := range results {
			r := results[(i+round)%len(results)]
			t := tabs[r]
			if t == nil {
				continue
			}
			total := b.c.runs
			if r.v.slow {
				total = b.c.cpuRuns
			}
			n := total*(round+1)/b.c.rounds - total*round/b.c.rounds
			if n == 0 {
				continue
			}
			t.front()
			var w struct{ MS, EngineMS, GraphMS []float64 }
			if err := t.call(fmt.Sprintf("bench.warm(%d, %t)", n, graphRuns(r)), &w); err != nil {
				r.err = err
				t.close()
				delete(tabs, r)
				continue
			}
			r.warm = append(r.warm, w.MS...)
			r.engine = append(r.engine, w.EngineMS...)
			r.graph = append(r.graph, w.GraphMS...)
		}
	}
	for _, r := range results {
		slices.Sort(r.warm)
		slices.Sort(r.engine)
		slices.Sort(r.graph)
		if t := tabs[r]; t != nil && graphRuns(r) {
			t.call("bench.kernels()", &r.kernels)
		}
	}
	progress("  memory after %d images...", b.c.images)
	for _, r := range results {
		t := tabs[r]
		if t == nil {
			continue
		}
		n := b.c.images
		if r.v.slow {
			n = 0 // no wasm memory to measure, and 100 images would take minutes
		}
		var m memResult
		if err := t.call(fmt.Sprintf("bench.memory(%d)", n), &m); err != nil {
			progress("  %s memory: %v", r.v.key, err)
			continue
		}
		r.mem = &m
	}
}

// graphRuns says whether a variant also times its graph alone, alternately
// with classify: the peers, but not on the slow cpu backend.
func graphRuns(r *result) bool { return !r.v.ours && !r.v.slow }

func (b *bench) warmupRuns(r *result) int {
	if r.v.slow {
		return min(b.c.warmup, 1)
	}
	return b.c.warmup
}

type tputResult struct {
	Workers   int
	PerSecond float64
	Failed    []string
	Kernels   string
}

// throughput runs classifyMany on c.images canvases with each worker
// count, three times, interleaved, and keeps the best run of each: what
// the engine can do when the shared machine lets it.
func (b *bench) throughput() ([]tputResult, error) {
	t, err := openTab(b.browser, b.c.verbose, 0)
	if err != nil {
		return nil, err
	}
	defer t.close()
	var cr coldResult
	if err := t.load(b.base+"/pages/ours.html", loadTimeout, &cr); err != nil {
		return nil, err
	}
	if err := t.call("bench.dispose()", nil); err != nil {
		return nil, err
	}
	best := map[int]tputResult{}
	for range 3 {
		for _, w := range b.c.workers {
			var r tputResult
			if err := t.call(fmt.Sprintf("bench.throughput(%d, %d)", w, b.c.images), &r); err != nil {
				return nil, err
			}
			if len(r.Failed) > 0 {
				return nil, fmt.Errorf("%d workers: %d images failed: %s", w, len(r.Failed), r.Failed[0])
			}
			if r.PerSecond > best[w].PerSecond {
				best[w] = r
			}
		}
	}
	out := make([]tputResult, 0, len(best))
	for _, w := range b.c.workers {
		out = append(out, best[w])
	}
	return out, nil
}

// strictCSP loads the nsfwjs pages under the product's own policy (plus
// the hash of the page's inline import map, which a bundled app would not
// need) and records whether they still produce a result.
func (b *bench) strictCSP(results []*result) {
	for _, r := range results {
		if r.v.ours {
			continue
		}
		path := r.v.path
		path = strings.Replace(path, prefixIsolated+"/", prefixStrictIso+"/", 1)
		path = strings.Replace(path, prefixOpen+"/", prefixStrict+"/", 1)
		t, err := openTab(b.browser, b.c.verbose, r.v.concurrency)
		if err != nil {
			r.strict = err.Error()
			continue
		}
		var cr coldResult
		// A page that CSP breaks may just never finish: give it a few times
		// its normal cold start.
		err = t.load(b.base+path, 20*time.Second, &cr)
		var blocked []string
		for _, e := range t.consoleErrors() {
			if strings.Contains(e, "Content Security Policy") || strings.Contains(e, "Content-Security-Policy") {
				blocked = append(blocked, e)
			}
		}
		r.offsite = append(r.offsite, t.offsite(b.base)...)
		t.close()
		switch {
		case err != nil && len(blocked) > 0:
			r.strict = "fails: " + shorten(blocked[0], 160)
		case err != nil:
			r.strict = "fails: " + shorten(err.Error(), 160)
		case len(cr.Violations) > 0 || len(blocked) > 0:
			r.strict = "works, with violations reported: " + shorten(strings.Join(append(cr.Violations, blocked...), "; "), 160)
		default:
			r.strict = "works"
			if cr.Threads > 0 && r.v.key == "nsfwjs-wasm-mt" {
				r.strict += fmt.Sprintf(" (%d threads)", cr.Threads)
			}
		}
	}
}

func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// findRoot finds the repository root: the nearest folder up from the
// working directory whose go.mod is this module's.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/nsfw-go/nsfw\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run this from the nsfw repository (go run ./build/bench/web)")
		}
		dir = parent
	}
}

// checkNodeModules checks that build/node_modules holds the peer at the
// versions compared.
func checkNodeModules(root string) error {
	for _, p := range peerPackages {
		pkg, want := p[0], p[1]
		b, err := os.ReadFile(filepath.Join(root, "build", "node_modules", pkg, "package.json"))
		if err != nil {
			return fmt.Errorf("build/node_modules/%s is missing: run cd build && npm ci (or make node-deps)", pkg)
		}
		if want != "" && !strings.Contains(string(b), `"version": "`+want+`"`) {
			return fmt.Errorf("build/node_modules/%s is not version %s: run cd build && npm ci (or make node-deps)", pkg, want)
		}
	}
	return nil
}

// loadAverage reads the 1-minute load average: a shared machine's other
// work shows there.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "n/a"
	}
	return f[0]
}

// cpuModel reads the CPU's name from /proc/cpuinfo.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func appendSection(file, rep, product string) error {
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	cmdline := "go run ./build/bench/web"
	if len(os.Args) > 1 {
		cmdline += " " + strings.Join(os.Args[1:], " ")
	}
	_, err = fmt.Fprintf(f, "\n## Browser (headless Chromium), %s\n\nCommand: `make bench-web` (`%s`). Machine: %s, %d cores; %s (headless, Debian build).\n\n%s",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), cmdline, cpuModel(), runtime.NumCPU(), product, rep)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// ---------------------------------------------------------------------------
// Statistics and formatting.

func pct(s []float64, p float64) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

func median(s []float64) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	s = slices.Clone(s)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func coldMedian(r *result, f func(coldResult) float64) float64 {
	var v []float64
	for _, c := range r.cold {
		if x := f(c); x > 0 {
			v = append(v, x)
		}
	}
	return median(v)
}

func ms(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	if v >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func mb(n int64) string { return fmt.Sprintf("%.2f MB", float64(n)/1e6) }

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

func ratio(a, b float64) string {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 || a == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func byKey(results []*result, key string) *result {
	for _, r := range results {
		if r.v.key == key {
			return r
		}
	}
	return nil
}

// files are the distinct files a page loaded (its first cold load), the
// harness's own excluded.
func (r *result) files(st *site) (names []string, total sizes) {
	seen := map[string]bool{}
	for _, s := range r.served {
		if harness(s.Path) || seen[s.Path] || s.Status != 200 {
			continue
		}
		seen[s.Path] = true
		names = append(names, s.Path)
		total = total.add(st.sizes(s.Path))
	}
	return names, total
}

func (r *result) wire() (bytes int64, requests int, encodings []string) {
	enc := map[string]bool{}
	for _, s := range r.served {
		if harness(s.Path) {
			continue
		}
		bytes += s.Bytes
		requests++
		e := cmp.Or(s.Encoding, "identity")
		if !enc[e] {
			enc[e] = true
			encodings = append(encodings, e)
		}
	}
	return bytes, requests, encodings
}

func (r *result) transfer(st *site) sizes {
	_, t := r.files(st)
	return t
}

func (r *result) memBytes() float64 {
	if r.mem == nil || r.mem.Bytes == 0 {
		return math.NaN()
	}
	return float64(r.mem.Bytes)
}

func report(c config, st *site, results []*result, tput []tputResult, tputErr error, offsite []string, background int) string {
	var o strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&o, format+"\n", args...) }
	simd := byKey(results, "ours-SIMD")

	kernels := "n/a"
	if len(simd.cold) > 0 {
		kernels = simd.cold[0].Kernels
	}
	if !st.kernels {
		p("**Note: wasm/kernels/kernels.wasm is absent (the SIMD kernels have not been built), so the \"SIMD\" row runs the pure-Go kernels.**")
		p("")
	} else if len(simd.cold) > 0 && kernels != "wasm-simd128" {
		p("**Note: kernels.wasm was served but the engine reports kernels %q, so the \"SIMD\" row runs the pure-Go kernels.**", kernels)
		p("")
	}

	p("Browser: one 224×224 canvas (photo-chelsea.png drawn scaled), same MobileNetV2 weights (nsfwjs@4.4.0's) in every engine.")
	p("")
	p("| engine | kernels / backend | warm `classify`, median [p10–p90] ms | cold start to first result, median ms | transfer raw / gzip -9 / brotli 11 | wasm memory after %d images |", c.images)
	p("|---|---|---|---|---|---|")
	for _, r := range results {
		kind := "n/a"
		if len(r.cold) > 0 {
			cr := r.cold[0]
			if r.v.ours {
				kind = cr.Kernels
			} else {
				kind = cr.Backend
				if cr.Backend == "wasm" {
					kind = fmt.Sprintf("wasm, %d thread", cr.Threads)
					if cr.Threads != 1 {
						kind += "s"
					}
					if cr.CrossOriginIsolated {
						kind += ", isolated"
					}
				}
			}
		}
		warm := "n/a"
		if len(r.warm) > 0 {
			warm = fmt.Sprintf("%s [%s–%s] (%d runs)", ms(median(r.warm)), ms(pct(r.warm, 0.1)), ms(pct(r.warm, 0.9)), len(r.warm))
		}
		tr := "n/a"
		if len(r.served) > 0 {
			t := r.transfer(st)
			tr = fmt.Sprintf("%s / %s / %s", mb(t.raw), mb(t.gz), mb(t.br))
		}
		mem := "n/a"
		if m := r.mem; m != nil && m.Bytes > 0 {
			mem = mib(m.Bytes)
		} else if m != nil && r.v.slow {
			mem = fmt.Sprintf("none (JS heap; tensors %s)", mib(m.TensorBytes))
		}
		if r.err != nil && len(r.warm) == 0 {
			warm = "failed: " + shorten(r.err.Error(), 120)
		}
		p("| %s | %s | %s | %s | %s | %s |", r.v.name, kind, warm, ms(coldMedian(r, func(c coldResult) float64 { return c.FirstMs })), tr, mem)
	}
	p("")
	p("Warm `classify`: one `await classify(canvas)` on the page's main thread, after %d untimed runs, the engines interleaved in %d rounds. Ours: createImageBitmap, transfer to the engine's worker, inference, result. nsfwjs: fromPixels, normalise, predict, read back, sort.", c.warmup, c.rounds)
	p("")

	p("Ours ÷ peer (below 1: ours is faster, smaller):")
	p("")
	p("| ratio | warm latency | cold start | bytes (brotli) | wasm memory |")
	p("|---|---|---|---|---|")
	pairs := [][2]string{
		{"ours-SIMD", "nsfwjs-wasm"}, {"ours-SIMD", "nsfwjs-wasm-mt"}, {"ours-SIMD", "nsfwjs-cpu"},
		{"ours-Go", "nsfwjs-wasm"}, {"ours-Go", "nsfwjs-wasm-mt"}, {"ours-Go", "nsfwjs-cpu"},
		{"ours-SIMD", "ours-Go"},
	}
	for _, pr := range pairs {
		a, b := byKey(results, pr[0]), byKey(results, pr[1])
		ta, tb := a.transfer(st), b.transfer(st)
		p("| %s ÷ %s | %s | %s | %s | %s |", a.v.key, b.v.key,
			ratio(median(a.warm), median(b.warm)),
			ratio(coldMedian(a, func(c coldResult) float64 { return c.FirstMs }), coldMedian(b, func(c coldResult) float64 { return c.FirstMs })),
			ratio(float64(ta.br), float64(tb.br)), ratio(a.memBytes(), b.memBytes()))
	}
	p("")

	p("Cold start, median of %d fresh loads (each a new browser context, HTTP cache disabled), ms since navigation start:", c.cold)
	p("")
	p("| engine | scripts run | downloads done | engine / backend ready | model loaded | first result |")
	p("|---|---|---|---|---|---|")
	for _, r := range results {
		cm := func(f func(coldResult) float64) string { return ms(coldMedian(r, f)) }
		ready, model := cm(func(c coldResult) float64 { return c.ReadyMs }), "(in the engine)"
		if !r.v.ours {
			ready, model = cm(func(c coldResult) float64 { return c.BackendMs }), cm(func(c coldResult) float64 { return c.ModelMs })
		}
		p("| %s | %s | %s | %s | %s | %s |", r.v.key, cm(func(c coldResult) float64 { return c.ScriptMs }),
			cm(func(c coldResult) float64 { return c.DownloadsMs }), ready, model, cm(func(c coldResult) float64 { return c.FirstMs }))
	}
	p("")
	p("\"scripts run\": the page's module starts (its static imports loaded and evaluated); \"downloads done\": the last byte the page's main thread fetched; ours is ready when createDetector resolves (wasm compiled, worker started, weights in place).")
	p("")

	p("Files each page requested to get its first result (the harness page and photo excluded), bytes:")
	p("")
	p("| file | raw | gzip -9 | brotli 11 | loaded by |")
	p("|---|---|---|---|---|")
	type use struct {
		s     sizes
		users []string
	}
	uses := map[string]*use{}
	var order []string
	for _, r := range results {
		names, _ := r.files(st)
		for _, n := range names {
			if uses[n] == nil {
				uses[n] = &use{s: st.sizes(n)}
				order = append(order, n)
			}
			uses[n].users = append(uses[n].users, r.v.key)
		}
	}
	for _, n := range order {
		u := uses[n]
		p("| %s | %d | %d | %d | %s |", n, u.s.raw, u.s.gz, u.s.br, strings.Join(u.users, ", "))
	}
	p("")
	var wires []string
	for _, r := range results {
		if len(r.served) == 0 {
			continue
		}
		w, n, enc := r.wire()
		wires = append(wires, fmt.Sprintf("%s %s in %d requests (%s)", r.v.key, mb(w), n, strings.Join(enc, ", ")))
	}
	p("On the wire (first cold load, as the server sent it): %s.", strings.Join(wires, "; "))
	p("")

	p("Throughput: `classifyMany` on %d canvases, %s kernels, best of 3 (interleaved):", c.images, kernels)
	p("")
	if tputErr != nil {
		p("failed: %v", tputErr)
	} else {
		p("| workers | images/s |")
		p("|---|---|")
		for _, t := range tput {
			p("| %d | %.1f |", t.Workers, t.PerSecond)
		}
	}
	p("")

	if len(simd.cold) > 0 && len(simd.warm) > 0 {
		macs := simd.cold[0].Macs
		p("Kernel efficiency (%s): %.0f MMAC per image ÷ median latency = %.2f GMAC/s for the whole `classify` call, %.2f GMAC/s for the engine's own time (median %s ms).",
			kernels, macs/1e6, macs/median(simd.warm)/1e6, macs/median(simd.engine)/1e6, ms(median(simd.engine)))
		if g := byKey(results, "ours-Go"); len(g.warm) > 0 {
			p("Pure-Go kernels: %.2f GMAC/s whole call, %.2f GMAC/s engine (median %s ms).", macs/median(g.warm)/1e6, macs/median(g.engine)/1e6, ms(median(g.engine)))
		}
		p("")
	}

	for _, r := range results {
		switch {
		case len(r.graph) > 0:
			p("%s: one inference dispatches %d TF.js kernels; the graph alone (predict on a ready tensor, read back; timed alternately with `classify`) takes median %s ms of the %s ms `classify`.",
				r.v.key, r.kernels, ms(median(r.graph)), ms(median(r.warm)))
		case r.kernels > 0:
			p("%s: one inference dispatches %d TF.js kernels.", r.v.key, r.kernels)
		}
	}
	for _, r := range results {
		if r.v.ours && len(r.engine) > 0 {
			p("%s: the engine's own time is median %s ms of the %s ms `classify` (the rest: createImageBitmap, worker messages, result).", r.v.key, ms(median(r.engine)), ms(median(r.warm)))
		}
	}
	p("")

	p("Memory: for ours, the byte length of the Go instance's WebAssembly.Memory (shared with the SIMD kernels), read from a main-thread engine (`{worker: false}`) after %d images; for TF.js wasm, the Emscripten heap (`tf.backend().wasm.HEAPU8.byteLength`) after %d `classify` calls in the benchmarked page; WebAssembly memory never shrinks, so this is the peak.", c.images, c.images)
	for _, r := range results {
		if m := r.mem; m != nil {
			switch {
			case r.v.ours:
				p("- %s: %s at start, %s after %d images (%s kernels).", r.v.key, mib(m.InitBytes), mib(m.Bytes), m.Images, m.Kernels)
			case m.Bytes > 0:
				p("- %s: heap %s; TF.js holds %d tensors, %s.", r.v.key, mib(m.Bytes), m.Tensors, mib(m.TensorBytes))
			default:
				p("- %s: no wasm memory; TF.js holds %d tensors, %s of JS typed arrays.", r.v.key, m.Tensors, mib(m.TensorBytes))
			}
		}
	}
	p("")

	// Same input, same answers?
	var checks []string
	hashes := map[string]bool{}
	ref := map[string]float64{}
	if len(simd.cold) > 0 {
		ref = simd.cold[0].Probabilities
	}
	for _, r := range results {
		if len(r.cold) == 0 {
			continue
		}
		cr := r.cold[0]
		hashes[cr.Hash] = true
		d := 0.0
		for k, v := range ref {
			d = max(d, math.Abs(cr.Probabilities[k]-v))
		}
		checks = append(checks, fmt.Sprintf("%s %s %.3f (max |Δp| %.1e)", r.v.key, top(cr.Probabilities), cr.Probabilities[top(cr.Probabilities)], d))
	}
	same := "the same pixels on every page"
	if len(hashes) != 1 {
		same = fmt.Sprintf("**%d different pixel hashes across pages**", len(hashes))
	}
	p("Input check: %s; top class and difference from ours-SIMD: %s.", same, strings.Join(checks, "; "))
	p("")

	for _, r := range results {
		for _, cr := range r.cold {
			if cr.Visibility != "visible" {
				p("**Warning: a %s page was %q, not visible, while it loaded: the browser may have throttled it.**", r.v.key, cr.Visibility)
				p("")
				break
			}
		}
	}

	var csp []string
	for _, r := range results {
		if r.v.ours {
			var v []string
			for _, c := range r.cold {
				v = append(v, c.Violations...)
			}
			if len(v) == 0 && len(r.cold) > 0 {
				csp = append(csp, r.v.key+" runs under it (as shipped)")
			} else if len(v) > 0 {
				csp = append(csp, r.v.key+": violations: "+shorten(strings.Join(v, "; "), 120))
			}
		} else if r.strict != "" {
			csp = append(csp, r.v.key+" "+r.strict)
		}
	}
	p("Under the product's CSP (`%s`, plus the nsfwjs page's import-map hash): %s.", "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'", strings.Join(csp, "; "))
	p("")
	if len(offsite) == 0 {
		p("Network: every request of every page and worker went to 127.0.0.1 (checked by DevTools events and a proxy; %d background requests of Chromium itself were blocked).", background)
	} else {
		p("Network: **pages requested %d URLs off 127.0.0.1**: %s", len(offsite), shorten(strings.Join(offsite, " "), 300))
	}
	for _, r := range results {
		if r.err != nil {
			p("")
			p("%s failed: %s", r.v.name, shorten(r.err.Error(), 400))
		}
	}
	return o.String()
}

func top(p map[string]float64) string {
	best := ""
	for k, v := range p {
		if best == "" || v > p[best] {
			best = k
		}
	}
	return best
}
