package upload

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nsfw-go/nsfw/internal/imageio"
)

// heapSampler records the peak of the live-and-unswept heap, sampled
// every millisecond through runtime/metrics (which does not stop the world).
type heapSampler struct {
	peak atomic.Uint64
	stop chan struct{}
	done chan struct{}
}

const heapMetric = "/memory/classes/heap/objects:bytes"

func heapNow() uint64 {
	s := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func startHeapSampler() *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			if v := heapNow(); v > h.peak.Load() {
				h.peak.Store(v)
			}
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *heapSampler) Stop() uint64 {
	close(h.stop)
	<-h.done
	return h.peak.Load()
}

// phonePhoto is a 1600×1200 JPEG (a few hundred KB, over MaxMemory, so
// it travels through temporary files) made from a safe fixture.
func phonePhoto(t testing.TB) []byte {
	d, err := imageio.DecodeBytes(fixture(t, "photo-sheep-444.jpg"), imageio.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	src := d.Frames[0]
	sb := src.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, 1600, 1200))
	for y := range 1200 {
		for x := range 1600 {
			dst.Set(x, y, src.At(sb.Min.X+x*sb.Dx()/1600, sb.Min.Y+y*sb.Dy()/1200))
		}
	}
	var b bytes.Buffer
	jpeg.Encode(&b, dst, &jpeg.Options{Quality: 90})
	return b.Bytes()
}

// TestLoad holds 200 concurrent uploads on loopback: every one must be
// answered 201 (safe) or 422 (NSFW by the policy), none 503 or anything
// else; peak heap is reported and bounded, and nothing (goroutines,
// temporary files, admissions) is left after. The configuration is the
// default but for Timeout: 200 uploads at once are 300 inferences of
// about 100 ms, and on a shared 2-core machine the last in the queue may
// wait longer than the default minute (minutes when other work shares the
// machine); a real server sizes Timeout (or MaxPending) to its cores.
func TestLoad(t *testing.T) {
	const (
		uploads   = 200
		timeLimit = 6 * time.Minute
		// heapLimit bounds the growth of the heap over its level before the
		// load: server and clients, garbage not yet collected included.
		heapLimit = 160 << 20
	)
	left := tempDir(t)
	g := newGuard(t, Config{Timeout: 5 * time.Minute})
	stored := atomic.Int64{}
	srv := httptest.NewServer(g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, fhs := range r.MultipartForm.File {
			for _, fh := range fhs {
				f, err := fh.Open()
				if err != nil {
					http.Error(w, err.Error(), 500)
					return
				}
				n, _ := io.Copy(io.Discard, f)
				f.Close()
				stored.Add(n)
			}
		}
		w.WriteHeader(http.StatusCreated)
	})))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: uploads}}
	defer client.CloseIdleConnections()

	// A mix: photos and drawings, a large JPEG, the three NSFW-scored
	// fixtures, and uploads of two files.
	type kind struct {
		name string
		nsfw bool
		ct   string
		body []byte
	}
	var kinds []kind
	add := func(name string, nsfw bool, parts ...formPart) {
		ct, body := multipartBody(t, append([]formPart{value("title", name)}, parts...)...)
		kinds = append(kinds, kind{name, nsfw, ct, body})
	}
	for _, f := range []string{"photo-chelsea.png", "photo-coffee-420.jpg", "illustration-debian-homeworld.png", "photo-rocks.bmp", "anim-tux.gif"} {
		add(f, false, file("photo", f, fixture(t, f)))
	}
	add("phone.jpg", false, file("photo", "phone.jpg", phonePhoto(t)))
	add("two", false, file("photo", "a.png", fixture(t, "photo-sheep.png")), file("photo", "b.webp", fixture(t, "photo-jellyfish-lossy.webp")))
	for _, f := range []string{"ascent-default-porn.png", "ascent-default-hentai.png", "ascent-default-sexy.png"} {
		add(f, true, file("photo", f, fixture(t, f)))
	}

	runtime.GC()
	goroutines := runtime.NumGoroutine()
	base := heapNow()
	sampler := startHeapSampler()
	var (
		wg        sync.WaitGroup
		start     = make(chan struct{})
		mu        sync.Mutex
		latencies []time.Duration
		failures  []string
		rejected  int
	)
	for i := range uploads {
		k := kinds[i%len(kinds)]
		wg.Go(func() {
			<-start
			t0 := time.Now()
			resp, err := client.Post(srv.URL, k.ct, bytes.NewReader(k.body))
			if err != nil {
				mu.Lock()
				failures = append(failures, fmt.Sprintf("%s: %v", k.name, err))
				mu.Unlock()
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			d := time.Since(t0)
			mu.Lock()
			defer mu.Unlock()
			latencies = append(latencies, d)
			switch {
			case !k.nsfw && resp.StatusCode == http.StatusCreated:
			case k.nsfw && resp.StatusCode == http.StatusUnprocessableEntity:
				var rep Report
				if json.Unmarshal(body, &rep) != nil || len(rep.Files) != 1 || rep.Files[0].Reason != ReasonNSFW {
					failures = append(failures, fmt.Sprintf("%s: 422 for another reason: %s", k.name, body))
				}
				rejected++
			default:
				failures = append(failures, fmt.Sprintf("%s: %d %s", k.name, resp.StatusCode, body))
			}
		})
	}
	t0 := time.Now()
	close(start)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeLimit):
		t.Fatalf("200 uploads took over %v: %+v", timeLimit, g.Stats())
	}
	elapsed := time.Since(t0)
	peak := sampler.Stop()

	for _, f := range failures[:min(len(failures), 10)] {
		t.Error(f)
	}
	slices.Sort(latencies)
	pct := func(p float64) time.Duration { return latencies[min(len(latencies)-1, int(p*float64(len(latencies))))] }
	s := g.Stats()
	t.Logf("%d concurrent uploads (%d images) in %.2f s: %.1f uploads/s on %d cores; latency p50 %v, p99 %v, max %v",
		uploads, s.Images, elapsed.Seconds(), uploads/elapsed.Seconds(), runtime.GOMAXPROCS(0),
		pct(0.5).Round(time.Millisecond), pct(0.99).Round(time.Millisecond), latencies[len(latencies)-1].Round(time.Millisecond))
	t.Logf("peak heap %.1f MiB (%.1f MiB over the %.1f MiB before the load; limit %d MiB)",
		float64(peak)/(1<<20), float64(peak-min(peak, base))/(1<<20), float64(base)/(1<<20), heapLimit>>20)
	t.Logf("stats: %+v", s)
	if peak > base && peak-base > heapLimit {
		t.Errorf("peak heap grew by %d MiB, over %d MiB", (peak-base)>>20, heapLimit>>20)
	}
	if s.Overloaded != 0 || s.Passed+s.Rejected != uploads || int(s.Rejected) != rejected || s.InFlight != 0 || s.Waiting != 0 {
		t.Errorf("stats %+v", s)
	}

	client.CloseIdleConnections()
	srv.Close()
	waitFor(t, func() bool { return runtime.NumGoroutine() <= goroutines })
	if l := left(); len(l) > 0 {
		t.Errorf("temporary files left: %v", l)
	}
}
