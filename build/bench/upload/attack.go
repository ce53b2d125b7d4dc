package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// The guard under attack, on loopback: legitimate clients (closed loop,
// the same mix as above) alone, then while an attack runs, each phase on a
// fresh guarded server with the default configuration:
//
//   - slowloris: 256 clients that each send a request head and then one
//     byte of body every 2 s, reconnecting whenever they are cut off;
//   - CPU amplification: 2 clients that each post, in a loop, the costliest
//     animation the guard accepts (200 distinct frames of 990x1000: just
//     under the frame and decoding budgets);
//
// and no attack again at the end, so that the machine's drift shows. The
// bar: legitimate throughput under attack at least 70% of the figure
// without. Peak RSS is the server's (VmHWM, reset at the start of each
// phase), against the guard's MemoryBound above the RSS the phase started
// from.

type attackResult struct {
	name      string
	legit     loadResult
	attackers map[string]int
	peakRSS   uint64
	startRSS  uint64
	bound     int64
	load      string
}

func runAttack(mix []upload1, legit int, d time.Duration) []string {
	heavy := heavyGIF()
	over := overBudgetGIF()
	fmt.Fprintf(os.Stderr, "attack inputs: costliest accepted animation %d KB, over-budget GIF %d KB\n", len(heavy)>>10, len(over)>>10)
	ct, heavyBody := oneFile("heavy.gif", heavy)
	overCT, overBody := oneFile("over.gif", over)

	// The over-budget GIF of the original attack: refused before decoding.
	srv := startServer("guarded")
	var refusals []time.Duration
	overStatus := 0
	for range 20 {
		start := time.Now()
		resp, err := http.Post(srv.base+"/upload", overCT, bytes.NewReader(overBody))
		if err != nil {
			fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		overStatus = resp.StatusCode
		refusals = append(refusals, time.Since(start))
	}
	srv.stop()
	slices.Sort(refusals)

	phases := []struct {
		name   string
		attack func(ctx context.Context, base string, counts *counter)
	}{
		{"no attack", nil},
		{"256 slow clients (1 byte / 2 s)", func(ctx context.Context, base string, counts *counter) {
			slowloris(ctx, base, 256, counts)
		}},
		{"2 CPU-amplifying clients", func(ctx context.Context, base string, counts *counter) {
			amplify(ctx, base, 2, ct, heavyBody, counts)
		}},
		{"no attack (again)", nil},
	}
	var results []attackResult
	for _, ph := range phases {
		fmt.Fprintf(os.Stderr, "attack phase: %s, %d legitimate clients, %v...\n", ph.name, legit, d)
		srv := startServer("guarded")
		load(srv.base, mix, min(legit, 8), 2*time.Second) // warm up
		before := srv.stats(true)
		la := loadavg()
		ctx, cancel := context.WithCancel(context.Background())
		counts := &counter{m: map[string]int{}}
		var wg sync.WaitGroup
		if ph.attack != nil {
			wg.Go(func() { ph.attack(ctx, srv.base, counts) })
			time.Sleep(3 * time.Second) // the attack is under way before the clients come
		}
		r := load(srv.base, mix, legit, d)
		st := srv.stats(false)
		cancel()
		wg.Wait()
		srv.stop()
		results = append(results, attackResult{ph.name, r, counts.snapshot(), st.PeakRSS, before.RSS, st.Bound, la})
	}

	base := (results[0].legit.rate + results[len(results)-1].legit.rate) / 2
	var rows []string
	add := func(s string) { rows = append(rows, s); fmt.Println(s) }
	add(fmt.Sprintf("Under attack, on loopback (%v a phase, each on a fresh guarded server, default configuration): %d legitimate clients "+
		"post the mix above in a closed loop, alone, then while 256 slow clients each send one byte of body every 2 s "+
		"(reconnecting when cut off), then while 2 clients each post, in a loop, the costliest animation the guard accepts "+
		"(200 distinct frames of 990×1000, %d KB), then alone again. Ratio: legitimate answers/s against the mean of the two "+
		"phases without attack, measured in the same run. Peak RSS is the server's VmHWM over the phase; the bound is the RSS "+
		"at the start of the phase plus the guard's MemoryBound. The GIF of the original attack, over the limits (%d KB, 400 frames of 700×700), "+
		"is answered %d in %s (median of 20), before any frame is decoded.",
		d, legit, len(heavy)>>10, len(over)>>10, overStatus, ms(refusals[len(refusals)/2])))
	add("")
	add("| phase | legitimate answers/s | ratio | p50 | p99 | legitimate errors | attackers' answers | peak RSS | bound | load avg |")
	add("|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range results {
		errs := "0"
		if r.legit.errs > 0 {
			errs = fmt.Sprintf("%d %v", r.legit.errs, r.legit.statuses)
		}
		att := "–"
		if r.name != "no attack" && r.name != "no attack (again)" {
			att = "none answered in the phase"
		}
		if len(r.attackers) > 0 {
			var parts []string
			for _, k := range sortedKeys(r.attackers) {
				parts = append(parts, fmt.Sprintf("%s ×%d", k, r.attackers[k]))
			}
			att = strings.Join(parts, ", ")
		}
		add(fmt.Sprintf("| %s | %.1f | %.2f | %s | %s | %s | %s | %.0f MiB | %.0f MiB | %s |", r.name, r.legit.rate, r.legit.rate/base,
			ms(r.legit.p50), ms(r.legit.p99), errs, att, float64(r.peakRSS)/(1<<20), float64(r.startRSS+uint64(r.bound))/(1<<20), r.load))
	}
	add("")
	for _, r := range results[1 : len(results)-1] {
		if r.legit.rate < 0.7*base {
			fmt.Fprintf(os.Stderr, "BAR MISSED: %s: %.1f answers/s, %.2f of %.1f\n", r.name, r.legit.rate, r.legit.rate/base, base)
		}
		if r.peakRSS > r.startRSS+uint64(r.bound) {
			fmt.Fprintf(os.Stderr, "BOUND EXCEEDED: %s: peak RSS %d over %d\n", r.name, r.peakRSS, r.startRSS+uint64(r.bound))
		}
	}
	return rows
}

type counter struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *counter) add(k string) {
	c.mu.Lock()
	c.m[k]++
	c.mu.Unlock()
}

func (c *counter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.m {
		out[k] = v
	}
	return out
}

func sortedKeys(m map[string]int) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// slowloris runs n slow clients until ctx is done.
func slowloris(ctx context.Context, base string, n int, counts *counter) {
	addr := strings.TrimPrefix(base, "http://")
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			time.Sleep(time.Duration(i) * 2 * time.Second / time.Duration(n)) // spread over one period
			for ctx.Err() == nil {
				slowRequest(ctx, addr, counts)
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
	wg.Wait()
}

func slowRequest(ctx context.Context, addr string, counts *counter) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		counts.add("dial error")
		return
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: %d\r\n\r\n", 1<<20)
	answered := make(chan struct{})
	go func() {
		defer close(answered)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			counts.add("closed")
			return
		}
		resp.Body.Close()
		counts.add(fmt.Sprint(resp.StatusCode))
	}()
	body := []byte("--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.png\"\r\n\r\n\x89PNG")
	for i := 0; ; i++ {
		if _, err := conn.Write(body[i%len(body) : i%len(body)+1]); err != nil {
			<-answered
			return
		}
		select {
		case <-answered:
			return
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
	}
}

// amplify runs n clients posting body in a loop until ctx is done.
func amplify(ctx context.Context, base string, n int, ct string, body []byte, counts *counter) {
	client := &http.Client{Transport: &http.Transport{}}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/upload", bytes.NewReader(body))
				req.Header.Set("Content-Type", ct)
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				counts.add(fmt.Sprint(resp.StatusCode))
				if resp.StatusCode == http.StatusServiceUnavailable {
					time.Sleep(100 * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
}

func oneFile(name string, data []byte) (string, []byte) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	w, _ := mw.CreateFormFile("photos", name)
	w.Write(data)
	mw.Close()
	return mw.FormDataContentType(), b.Bytes()
}

// heavyGIF is the costliest animation the guard accepts by default: 200
// frames (the frame limit) of 990x1000 (200 × (990 000 + 4096) pixels of
// work, under the 200 MP budget), each differing from the others so that
// none is skipped, compressing to little.
func heavyGIF() []byte {
	const w, h = 990, 1000
	pal := color.Palette{color.RGBA{40, 90, 160, 255}, color.RGBA{230, 200, 60, 255}, color.RGBA{20, 20, 20, 255}}
	g := &gif.GIF{Config: image.Config{Width: w, Height: h, ColorModel: pal}}
	for i := range 200 {
		m := image.NewPaletted(image.Rect(0, 0, w, h), pal)
		for y := range 40 {
			for x := range 40 {
				m.Pix[m.PixOffset((i*37)%(w-40)+x, (i*53)%(h-40)+y)] = 1
			}
		}
		m.Pix[i] = 2
		g.Image = append(g.Image, m)
		g.Delay = append(g.Delay, 5)
		g.Disposal = append(g.Disposal, gif.DisposalNone)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		fatal(err)
	}
	return b.Bytes()
}

// overBudgetGIF is the shape of the original attack: many frames (400 of
// 700x700, twice the frame limit) in little data.
func overBudgetGIF() []byte {
	const w, h = 700, 700
	pal := color.Palette{color.RGBA{0, 0, 0, 255}, color.RGBA{255, 255, 255, 255}}
	g := &gif.GIF{Config: image.Config{Width: w, Height: h, ColorModel: pal}}
	for i := range 400 {
		m := image.NewPaletted(image.Rect(0, 0, w, h), pal)
		m.Pix[i] = 1
		g.Image = append(g.Image, m)
		g.Delay = append(g.Delay, 5)
		g.Disposal = append(g.Disposal, gif.DisposalNone)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		fatal(err)
	}
	return b.Bytes()
}
