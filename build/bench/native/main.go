// Command native measures the native engine side by side with nsfwjs in
// Node, in one run, and prints (or appends to BENCHMARKS.md) a table of
// ratios:
//
//	go run ./build/bench/native [-runs 30] [-append BENCHMARKS.md]
//
// It times single-core latency per image for both models (our best kernel
// Set, avx2 when built with GOEXPERIMENT=simd on amd64 as make
// bench-native does, else pure Go, against nsfwjs on TF.js's wasm and cpu
// backends, same 224×224 input), and `nsfw classify` throughput in
// images/s on 100 files with 1 and 2 jobs. It needs `npm ci` in build/
// for the nsfwjs side.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/nsfw-go/nsfw"
)

type timing struct {
	name string
	ms   []float64 // sorted
}

func (t timing) median() float64 { return pct(t.ms, 0.5) }

func pct(s []float64, p float64) float64 {
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

func main() {
	runs := flag.Int("runs", 30, "timed runs per measurement, after warm-up")
	appendTo := flag.String("append", "", "append the results to this markdown file")
	flag.Parse()

	input := make([]float32, 224*224*3)
	for i := range input {
		input[i] = float32(i*7%256) / 255
	}
	var rows []string
	add := func(s string) { rows = append(rows, s); fmt.Println(s) }

	fmt.Fprintln(os.Stderr, "timing nsfwjs in Node (wasm and cpu backends)...")
	peers := nodePeers(*runs)
	ours := map[string]timing{}
	kernels := ""
	for _, m := range []struct {
		name string
		load func(...nsfw.Option) (*nsfw.Detector, error)
	}{{"default", nsfw.Default}, {"mid", nsfw.Mid}} {
		d, err := m.load(nsfw.WithConcurrency(1))
		if err != nil {
			fatal(err)
		}
		kernels = d.Info().Kernels
		ours[m.name] = timeIt(*runs, func() {
			if _, err := d.ClassifyInput(input); err != nil {
				fatal(err)
			}
		})
	}

	add(fmt.Sprintf("Native latency per 224×224 image, one core (%s, %s/%s, %d runs; median [p10–p90] ms):", runtime.Version(), runtime.GOOS, runtime.GOARCH, *runs))
	add("")
	add("| model | this project (" + kernels + " kernels) | nsfwjs wasm (SIMD, 1 thread) | nsfwjs cpu | ours ÷ wasm | ours ÷ cpu |")
	add("|---|---|---|---|---|---|")
	for _, m := range []string{"default", "mid"} {
		o, w, c := ours[m], peers["wasm/"+m], peers["cpu/"+m]
		add(fmt.Sprintf("| %s | %s | %s | %s | %s | %s |", m, cell(o), cell(w), cell(c), ratio(o, w), ratio(o, c)))
	}
	add("")

	fmt.Fprintln(os.Stderr, "timing nsfw classify on 100 files...")
	tput := cliThroughput()
	add("`nsfw classify` throughput on 100 PNG/JPEG fixtures (decode included), default model:")
	add("")
	add("| jobs | images/s |")
	add("|---|---|")
	for _, j := range []int{1, 2} {
		add(fmt.Sprintf("| %d | %.1f |", j, tput[j]))
	}
	add("")

	if *appendTo != "" {
		f, err := os.OpenFile(*appendTo, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
		if err != nil {
			fatal(err)
		}
		fmt.Fprintf(f, "\n## Native engine, %s\n\nCommand: `make bench-native` (`go run ./build/bench/native -runs %d`), on %d cores.\n\n%s\n",
			time.Now().UTC().Format("2006-01-02"), *runs, runtime.NumCPU(), strings.Join(rows, "\n"))
		f.Close()
	}
}

func cell(t timing) string {
	if len(t.ms) == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f [%.1f–%.1f]", t.median(), pct(t.ms, 0.1), pct(t.ms, 0.9))
}

func ratio(a, b timing) string {
	if len(a.ms) == 0 || len(b.ms) == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", a.median()/b.median())
}

func timeIt(runs int, f func()) timing {
	for i := 0; i < 3; i++ {
		f()
	}
	ms := make([]float64, runs)
	for i := range ms {
		s := time.Now()
		f()
		ms[i] = float64(time.Since(s).Microseconds()) / 1000
	}
	slices.Sort(ms)
	return timing{ms: ms}
}

// nodePeers runs build/bench/nsfwjs-node.mjs and collects its timings.
func nodePeers(runs int) map[string]timing {
	out := map[string]timing{}
	cmd := exec.Command("node", "build/bench/nsfwjs-node.mjs", "--runs", fmt.Sprint(runs), "--models", "default,mid")
	cmd.Stderr = nil
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		fatal(err)
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "node not available, peers skipped:", err)
		return out
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		var r struct {
			Backend, Model string
			MS             []float64 `json:"ms"`
		}
		if json.Unmarshal(sc.Bytes(), &r) == nil {
			out[r.Backend+"/"+r.Model] = timing{ms: r.MS}
		}
	}
	if err := cmd.Wait(); err != nil {
		fmt.Fprintln(os.Stderr, "nsfwjs benchmark failed (run npm ci in build/):", err)
	}
	return out
}

// cliThroughput builds the CLI and classifies 100 fixture copies.
func cliThroughput() map[int]float64 {
	dir, err := os.MkdirTemp("", "nsfw-bench-")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "nsfw")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/nsfw").CombinedOutput(); err != nil {
		fatal(fmt.Errorf("build: %v\n%s", err, out))
	}
	srcs, _ := filepath.Glob("testdata/fixtures/photo-*.*")
	srcs = slices.DeleteFunc(srcs, func(s string) bool { return strings.HasSuffix(s, ".bmp") || strings.HasSuffix(s, ".webp") })
	imgs := filepath.Join(dir, "images")
	os.Mkdir(imgs, 0o755)
	for i := 0; i < 100; i++ {
		src := srcs[i%len(srcs)]
		b, err := os.ReadFile(src)
		if err != nil {
			fatal(err)
		}
		os.WriteFile(filepath.Join(imgs, fmt.Sprintf("%03d%s", i, filepath.Ext(src))), b, 0o644)
	}
	res := map[int]float64{}
	for _, jobs := range []int{1, 2} {
		best := 0.0
		for rep := 0; rep < 2; rep++ {
			s := time.Now()
			cmd := exec.Command(bin, "classify", "--json", "--quiet", "--jobs", fmt.Sprint(jobs), imgs)
			if err := cmd.Run(); err != nil {
				if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() > 1 {
					fatal(err)
				}
			}
			best = max(best, 100/time.Since(s).Seconds())
		}
		res[jobs] = best
	}
	return res
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}
