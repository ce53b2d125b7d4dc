// Command upload measures the upload guard on loopback: uploads per second
// held, latency of a checked upload (p50, p99) and the server's peak
// memory, at several concurrencies, side by side with the same server
// without the guard and with the engine alone; then the guard under
// attack (see attack.go):
//
//	go run ./build/bench/upload [-duration 20s] [-conc 1,8,200] [-attack 45s] [-append BENCHMARKS.md]
//
// The server runs in a child process (this program with -serve), so its
// heap and RSS are its own; clients run here. Phases alternate guarded and
// bare servers at each concurrency so both see the same machine noise.
// Each client posts one image per request, in a loop, from a mix of six
// safe images (PNG, JPEG, BMP, WebP, and a 1600×1200 JPEG as a phone would
// send) and the three NSFW-scored fixtures.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nsfw-go/nsfw"
	"github.com/nsfw-go/nsfw/internal/imageio"
	"github.com/nsfw-go/nsfw/upload"
)

func main() {
	serve := flag.String("serve", "", "internal: run the server (guarded or bare) and print its address")
	duration := flag.Duration("duration", 20*time.Second, "length of each measured phase")
	concs := flag.String("conc", "1,8,200", "client concurrencies")
	appendTo := flag.String("append", "", "append the results to this markdown file")
	attackPhase := flag.Duration("attack", 45*time.Second, "length of each phase of the attack measurement (0: skip it)")
	legit := flag.Int("legit", 50, "legitimate clients during the attack measurement")
	flag.Parse()
	if *serve != "" {
		runServer(*serve)
		return
	}
	var levels []int
	for _, s := range strings.Split(*concs, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fatal(fmt.Errorf("bad -conc %q", *concs))
		}
		levels = append(levels, n)
	}
	mix := loadMix()

	var rows []string
	add := func(s string) { rows = append(rows, s); fmt.Println(s) }

	type result struct {
		rate           float64
		cpuPer         float64 // CPU seconds per upload (server process) or per image (engine)
		p50, p99       time.Duration
		ok, nsfw, errs int
		statuses       map[int]int
		peakHeap, rss  uint64
		load           string
	}
	results := map[string]result{}
	for _, c := range levels {
		fmt.Fprintf(os.Stderr, "engine alone (decode + classify on every core), %v...\n", *duration/2)
		la := loadavg()
		cpu0 := cpuSeconds()
		n, el := engineRun(mix, *duration/2)
		results[fmt.Sprint("engine", c)] = result{rate: float64(n) / el.Seconds(), cpuPer: (cpuSeconds() - cpu0) / float64(n), load: la}
		for _, mode := range []string{"guarded", "bare"} {
			d := *duration
			if mode == "bare" {
				d /= 2
			}
			fmt.Fprintf(os.Stderr, "%s, %d concurrent clients, %v...\n", mode, c, d)
			srv := startServer(mode)
			load(srv.base, mix, min(c, 8), 2*time.Second) // warm up: arenas, connections
			srv.stats(true)
			la := loadavg()
			r := load(srv.base, mix, c, d)
			st := srv.stats(false)
			srv.stop()
			results[fmt.Sprint(mode, c)] = result{r.rate, st.CPU / float64(r.ok+r.nsfw+r.errs), r.p50, r.p99, r.ok, r.nsfw, r.errs, r.statuses, st.PeakHeap, st.PeakRSS, la}
		}
	}

	cores := runtime.NumCPU()
	add(fmt.Sprintf("Upload guard on loopback, %d cores (%s, %s/%s), %v per phase. At each concurrency, side by side: "+
		"the engine alone (decode + classify on every core, no HTTP), the guarded server, and the same server without the guard. "+
		"Closed loop: each client posts one image per upload, from a mix of 6 safe images (up to a 1600×1200 JPEG) "+
		"and the 3 NSFW-scored fixtures, and waits out a 503's Retry-After. Uploads/s counts the uploads answered within the phase; "+
		"latency covers every upload. CPU/upload is the server process's CPU time per answer, which other load on the machine "+
		"disturbs far less than wall time; %d ÷ it is what %d idle cores would hold. Peak memory is the server process's "+
		"(heap objects sampled every ms; VmHWM). The load average at the start of each phase shows how busy the machine was.",
		runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH, *duration, cores, cores))
	add("")
	add(fmt.Sprintf("| clients | run | uploads/s | CPU/upload | ÷ into %d cores | p50 | p99 | answers | peak heap | peak RSS | load avg |", cores))
	add("|---|---|---|---|---|---|---|---|---|---|---|")
	for _, c := range levels {
		e := results[fmt.Sprint("engine", c)]
		add(fmt.Sprintf("| %d | engine alone | %.1f images/s | %.0f ms/image | %.1f images/s | | | | | | %s |", c, e.rate, e.cpuPer*1e3, float64(cores)/e.cpuPer, e.load))
		for _, mode := range []string{"guarded", "bare"} {
			r := results[fmt.Sprint(mode, c)]
			answers := fmt.Sprintf("%d ok, %d nsfw (422)", r.ok, r.nsfw)
			if mode == "bare" {
				answers = fmt.Sprintf("%d ok (unchecked)", r.ok)
			}
			if r.errs > 0 {
				answers += fmt.Sprintf(", **%d other: %v**", r.errs, r.statuses)
			}
			add(fmt.Sprintf("| %d | %s | %.1f | %.1f ms | %.0f | %s | %s | %s | %.0f MiB | %.0f MiB | %s |", c, mode, r.rate, r.cpuPer*1e3, float64(cores)/r.cpuPer,
				ms(r.p50), ms(r.p99), answers, float64(r.peakHeap)/(1<<20), float64(r.rss)/(1<<20), r.load))
		}
	}
	add("")
	if *attackPhase > 0 {
		rows = append(rows, runAttack(mix, *legit, *attackPhase)...)
	}
	if *appendTo != "" {
		f, err := os.OpenFile(*appendTo, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			fatal(err)
		}
		fmt.Fprintf(f, "\n## Upload guard (%s)\n\n`make bench-upload` (`go run ./build/bench/upload`, avx2 kernels)\n\n%s\n", time.Now().Format("2006-01-02"), strings.Join(rows, "\n"))
		f.Close()
	}
}

func ms(d time.Duration) string {
	if d >= time.Second {
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
}

// upload is one prepared request body.
type upload1 struct {
	name string
	nsfw bool
	ct   string
	body []byte
	data []byte
}

func fixturesDir() string {
	for _, d := range []string{"testdata/fixtures", "../../../testdata/fixtures"} {
		if _, err := os.Stat(d); err == nil {
			return d
		}
	}
	fatal(fmt.Errorf("run from the repository root"))
	return ""
}

func loadMix() []upload1 {
	dir := fixturesDir()
	var mix []upload1
	add := func(name string, nsfw bool, data []byte) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		mw.WriteField("caption", name)
		w, _ := mw.CreateFormFile("photos", name)
		w.Write(data)
		mw.Close()
		mix = append(mix, upload1{name, nsfw, mw.FormDataContentType(), b.Bytes(), data})
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			fatal(err)
		}
		return b
	}
	for _, f := range []string{"photo-chelsea.png", "photo-coffee-420.jpg", "illustration-debian-homeworld.png", "photo-rocks.bmp", "photo-jellyfish-lossy.webp"} {
		add(f, false, read(f))
	}
	add("phone.jpg", false, phonePhoto(read("photo-sheep-444.jpg")))
	for _, f := range []string{"ascent-default-porn.png", "ascent-default-hentai.png", "ascent-default-sexy.png"} {
		add(f, true, read(f))
	}
	return mix
}

// phonePhoto enlarges a photo to 1600×1200 and encodes it as JPEG.
func phonePhoto(src []byte) []byte {
	d, err := imageio.DecodeBytes(src, imageio.Limits{})
	if err != nil {
		fatal(err)
	}
	img := d.Frames[0]
	sb := img.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, 1600, 1200))
	for y := range 1200 {
		for x := range 1600 {
			dst.Set(x, y, img.At(sb.Min.X+x*sb.Dx()/1600, sb.Min.Y+y*sb.Dy()/1200))
		}
	}
	var b bytes.Buffer
	jpeg.Encode(&b, dst, &jpeg.Options{Quality: 90})
	return b.Bytes()
}

// engineRun is the ceiling: decode and classify the mix on every core,
// with no HTTP, in this process. It returns the images done and the time.
func engineRun(mix []upload1, d time.Duration) (int64, time.Duration) {
	det, err := nsfw.Default()
	if err != nil {
		fatal(err)
	}
	var n atomic.Int64
	start := time.Now()
	stop := start.Add(d)
	var wg sync.WaitGroup
	for w := range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := w; time.Now().Before(stop); i++ {
				dec, err := imageio.DecodeBytes(mix[i%len(mix)].data, imageio.Limits{})
				if err != nil {
					fatal(err)
				}
				if _, err := det.ClassifyFrames(dec.Frames); err != nil {
					fatal(err)
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	return n.Load(), time.Since(start)
}

// cpuSeconds is this process's user and system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// loadavg is the 1-minute load average, to show how busy the machine was.
func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

type loadResult struct {
	rate           float64
	p50, p99       time.Duration
	ok, nsfw, errs int
	statuses       map[int]int
}

// load runs c clients, each posting uploads in a loop for d.
func load(base string, mix []upload1, c int, d time.Duration) loadResult {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c, MaxConnsPerHost: c}, Timeout: 5 * time.Minute}
	defer client.CloseIdleConnections()
	var (
		mu       sync.Mutex
		lat      []time.Duration
		res      = loadResult{statuses: map[int]int{}}
		wg       sync.WaitGroup
		stop     = time.Now().Add(d)
		inWindow int
	)
	for w := range c {
		wg.Go(func() {
			for i := w; time.Now().Before(stop); i++ {
				u := mix[i%len(mix)]
				start := time.Now()
				resp, err := client.Post(base+"/upload", u.ct, bytes.NewReader(u.body))
				status := 0
				var retry time.Duration
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					status = resp.StatusCode
					if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && status == http.StatusServiceUnavailable {
						retry = time.Duration(s) * time.Second
					}
				}
				el := time.Since(start)
				mu.Lock()
				lat = append(lat, el)
				if time.Now().Before(stop) {
					inWindow++
				}
				switch {
				case status == 200:
					res.ok++
				case status == 422 && u.nsfw:
					res.nsfw++
				default:
					res.errs++
					res.statuses[status]++
				}
				mu.Unlock()
				if retry > 0 {
					time.Sleep(min(retry, time.Until(stop)))
				}
			}
		})
	}
	wg.Wait()
	// The uploads in flight at the end finish after d (at 200 clients,
	// seconds after): they count for latency, not for the rate held.
	res.rate = float64(inWindow) / d.Seconds()
	slices.Sort(lat)
	if len(lat) > 0 {
		res.p50 = lat[len(lat)/2]
		res.p99 = lat[min(len(lat)-1, len(lat)*99/100)]
	}
	return res
}

// server is a running child server.
type server struct {
	cmd  *exec.Cmd
	base string
}

type serverStats struct {
	PeakHeap, PeakRSS, RSS uint64
	CPU                    float64 // seconds since the last reset
	Guard                  upload.Stats
	Bound                  int64 // the guard's MemoryBound
	Workers                int
}

func startServer(mode string) *server {
	cmd := exec.Command(os.Args[0], "-serve", mode)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		fatal(err)
	}
	if err := cmd.Start(); err != nil {
		fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		fatal(fmt.Errorf("server: %v", err))
	}
	return &server{cmd: cmd, base: "http://" + strings.TrimSpace(line)}
}

func (s *server) stats(reset bool) serverStats {
	url := s.base + "/bench/stats"
	if reset {
		url += "?reset=1"
	}
	resp, err := http.Get(url)
	if err != nil {
		fatal(err)
	}
	defer resp.Body.Close()
	var st serverStats
	json.NewDecoder(resp.Body).Decode(&st)
	return st
}

func (s *server) stop() {
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

// runServer is the child: a guarded (or bare) upload route on loopback,
// and /bench/stats with its peak memory.
func runServer(mode string) {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseMultipartForm(upload.DefaultMaxMemory); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		defer r.MultipartForm.RemoveAll()
		for _, fhs := range r.MultipartForm.File {
			for _, fh := range fhs {
				f, err := fh.Open()
				if err != nil {
					http.Error(w, err.Error(), 500)
					return
				}
				io.Copy(io.Discard, f)
				f.Close()
			}
		}
		w.Write([]byte("ok"))
	})
	var route http.Handler = app
	var g *upload.Guard
	if mode == "guarded" {
		det, err := nsfw.Default()
		if err != nil {
			fatal(err)
		}
		if g, err = upload.New(upload.Config{Detector: det}); err != nil {
			fatal(err)
		}
		route = g.Wrap(app)
	}
	var peak atomic.Uint64
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for range time.Tick(time.Millisecond) {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
		}
	}()
	mux := http.NewServeMux()
	mux.Handle("/upload", route)
	var cpuMu sync.Mutex
	cpu0 := cpuSeconds()
	mux.HandleFunc("/bench/stats", func(w http.ResponseWriter, r *http.Request) {
		cpuMu.Lock()
		defer cpuMu.Unlock()
		st := serverStats{PeakHeap: peak.Load(), PeakRSS: vmHWM(), RSS: vmRSS(), CPU: cpuSeconds() - cpu0}
		if g != nil {
			st.Guard, st.Bound, st.Workers = g.Stats(), g.MemoryBound(), g.Config().Workers
		}
		if r.URL.Query().Get("reset") != "" {
			runtime.GC()
			peak.Store(0)
			os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // resets VmHWM
			cpu0 = cpuSeconds()
		}
		json.NewEncoder(w).Encode(st)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatal(err)
	}
	fmt.Println(ln.Addr())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fatal(srv.Serve(ln))
}

// vmHWM is the process's peak resident set size, from /proc.
func vmHWM() uint64 { return procStatus("VmHWM:") }

// vmRSS is the process's resident set size now.
func vmRSS() uint64 { return procStatus("VmRSS:") }

func procStatus(key string) uint64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench/upload:", err)
	os.Exit(1)
}
