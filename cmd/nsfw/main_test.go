package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/nsfw-go/nsfw"
	"github.com/nsfw-go/nsfw/internal/imageio"
)

const fixtures = "../../testdata/fixtures/"

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// pngBomb is a valid PNG signature and IHDR claiming w×h pixels, and nothing
// else: a decoder that trusts it would allocate w·h·4 bytes.
func pngBomb(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk := append([]byte("IHDR"), ihdr...)
	binary.Write(&b, binary.BigEndian, uint32(13))
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

// testTree builds a folder with safe, NSFW-scored, animated and broken files.
func testTree(t *testing.T) string {
	dir := t.TempDir()
	copyFile(t, fixtures+"photo-chelsea.png", filepath.Join(dir, "a-safe.png"))
	copyFile(t, fixtures+"ascent-default-porn.png", filepath.Join(dir, "b-flagged.png"))
	copyFile(t, fixtures+"anim-tux.gif", filepath.Join(dir, "sub", "c-anim.gif"))
	copyFile(t, fixtures+"photo-sheep-444.jpg", filepath.Join(dir, "sub", "deeper", "d-photo.JPG"))
	png, _ := os.ReadFile(fixtures + "photo-coffee.png")
	os.WriteFile(filepath.Join(dir, "e-truncated.png"), png[:len(png)/2], 0o644)
	os.WriteFile(filepath.Join(dir, "f-text.png"), []byte("this is not an image\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "g-empty.jpg"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "h-bomb.png"), pngBomb(100000, 100000), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("skipped: not an image extension"), 0o644)
	return dir
}

func TestClassifyJSON(t *testing.T) {
	dir := testTree(t)
	stdout, stderr, code := runCLI(t, "classify", "--json", dir)
	if code != exitFlagged|exitErrors {
		t.Fatalf("exit %d, want %d (flagged and errors); stderr:\n%s", code, exitFlagged|exitErrors, stderr)
	}
	det, err := nsfw.Default()
	if err != nil {
		t.Fatal(err)
	}
	var recs []record
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("bad JSON line %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	want := []struct{ name, verdict, top, errKind string }{
		{"a-safe.png", "safe", "Neutral", ""},
		{"b-flagged.png", "nsfw", "Porn", ""},
		{"e-truncated.png", "", "", "corrupt"},
		{"f-text.png", "", "", "unsupported"},
		{"g-empty.jpg", "", "", "empty"},
		{"h-bomb.png", "", "", "too_large"},
		{"c-anim.gif", "safe", "Neutral", ""},
		{"d-photo.JPG", "safe", "Neutral", ""},
	}
	if len(recs) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(recs), len(want), stdout)
	}
	for i, w := range want {
		r := recs[i]
		if filepath.Base(r.File) != w.name || r.Verdict != w.verdict || r.Top != w.top || r.ErrorKind != w.errKind {
			t.Errorf("line %d: %s verdict %q top %q error %q (%s); want %+v", i, filepath.Base(r.File), r.Verdict, r.Top, r.ErrorKind, r.Error, w)
		}
		if w.errKind != "" {
			if r.Error == "" {
				t.Errorf("%s: no error message", w.name)
			}
			continue
		}
		// The CLI prints exactly what the library computes.
		dec, err := imageio.DecodeFile(r.File, imageio.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		lib, err := det.ClassifyFrames(dec.Frames)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range nsfw.Classes {
			if r.Probabilities[c.String()] != lib.Probabilities[c] {
				t.Errorf("%s: %s = %v, library %v", w.name, c, r.Probabilities[c.String()], lib.Probabilities[c])
			}
		}
		if w.name == "c-anim.gif" && (r.FrameCount != 6 || r.Frames < 2 || r.Frame == nil) {
			t.Errorf("animated GIF: frame_count %d, frames %d, frame %v", r.FrameCount, r.Frames, r.Frame)
		}
	}
	if !strings.Contains(stderr, "4 images") || !strings.Contains(stderr, "1 nsfw, 3 safe, 4 errors") {
		t.Errorf("summary: %q", stderr)
	}
}

func TestClassifyTable(t *testing.T) {
	stdout, stderr, code := runCLI(t, "classify", fixtures+"photo-chelsea.png", fixtures+"ascent-default-hentai.png", "--policy", "strict")
	if code != exitFlagged {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "VERDICT") || !strings.HasPrefix(lines[1], "safe") || !strings.HasPrefix(lines[2], "nsfw    Hentai") {
		t.Fatalf("table:\n%s", stdout)
	}
	if !strings.Contains(stderr, "policy strict") {
		t.Errorf("summary %q", stderr)
	}
	// --nsfw-only drops the safe line.
	stdout, _, _ = runCLI(t, "classify", "--nsfw-only", fixtures+"photo-chelsea.png", fixtures+"ascent-default-hentai.png")
	if strings.Contains(stdout, "chelsea") || !strings.Contains(stdout, "hentai") {
		t.Fatalf("--nsfw-only:\n%s", stdout)
	}
	// Errors go to stderr in table mode, and the run goes on.
	stdout, stderr, code = runCLI(t, "classify", "missing.png", fixtures+"photo-sheep.png")
	if code != exitErrors || !strings.Contains(stderr, "missing.png") || !strings.Contains(stdout, "photo-sheep.png") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
}

func TestClassifySafeExitsZero(t *testing.T) {
	_, stderr, code := runCLI(t, "classify", "--quiet", "--model", "mid", fixtures+"photo-sheep.png")
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"classify"},
		{"classify", "--policy", "paranoid", "x.png"},
		{"classify", "--model", "nope.nsfw", "x.png"},
		{"classify", "--jobs", "0", "x.png"},
		{"classify", "--no-such-flag", "x.png"},
		{"convert"},
		{"info", "extra"},
	} {
		_, stderr, code := runCLI(t, args...)
		if code != exitUsage || stderr == "" {
			t.Errorf("%v: exit %d, stderr %q; want %d and a message", args, code, stderr, exitUsage)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"help", "classify"}, {"classify", "--help"}, {"convert", "-h"}, {"info", "--help"}} {
		stdout, stderr, code := runCLI(t, args...)
		if code != exitOK || !strings.Contains(stdout+stderr, "Usage") {
			t.Errorf("%v: exit %d, output %q", args, code, stdout+stderr)
		}
	}
	stdout, _, _ := runCLI(t, "help", "classify")
	_, stderr, _ := runCLI(t, "classify", "--help")
	if !strings.Contains(stderr+stdout, "--policy") && !strings.Contains(stderr+stdout, "-policy") {
		t.Error("classify help does not list its flags")
	}
}

func TestInfo(t *testing.T) {
	stdout, _, code := runCLI(t, "info", "--model", "mid")
	if code != exitOK || !strings.Contains(stdout, "MobileNetV2Mid") || !strings.Contains(stdout, "MIT") || !strings.Contains(stdout, "nsfwjs@4.4.0") {
		t.Fatalf("exit %d:\n%s", code, stdout)
	}
}

// TestBinaryExitCodes runs the real binary, so that main's os.Exit is
// covered too.
func TestBinaryExitCodes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "nsfw")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"classify", "--quiet", fixtures + "photo-sheep.png"}, 0},
		{[]string{"classify", "--quiet", fixtures + "ascent-default-porn.png"}, 1},
		{[]string{"classify"}, 2},
		{[]string{"classify", "--quiet", "does-not-exist.png"}, 4},
		{[]string{"classify", "--quiet", t.TempDir()}, 8},
	} {
		err := exec.Command(bin, c.args...).Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != c.code {
			t.Errorf("%v: exit %d, want %d", c.args, code, c.code)
		}
	}
}

// TestClassifyKeepsOrderOfPaths: a path that cannot be read is reported in
// its place among the results, as the help promises.
func TestClassifyKeepsOrderOfPaths(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, fixtures+"photo-chelsea.png", filepath.Join(dir, "sub", "b.png"))
	stdout, _, code := runCLI(t, "classify", "--json", fixtures+"photo-sheep.png", "missing.png", filepath.Join(dir, "sub"), "missing-dir/", fixtures+"drawing-frog.png")
	if code != exitErrors {
		t.Fatalf("exit %d, want %d", code, exitErrors)
	}
	var got []string
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		got = append(got, filepath.Base(r.File))
	}
	want := []string{"photo-sheep.png", "missing.png", "b.png", "missing-dir", "drawing-frog.png"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("order %v, want %v", got, want)
	}
}

// TestClassifyNoImages: nothing to classify is not "all safe".
func TestClassifyNoImages(t *testing.T) {
	empty := t.TempDir()
	textOnly := t.TempDir()
	os.WriteFile(filepath.Join(textOnly, "notes.txt"), []byte("not an image"), 0o644)
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{empty}, exitNoImages},
		{[]string{textOnly, "--json"}, exitNoImages},
		{[]string{empty, "missing.png"}, exitErrors}, // the failure is what matters
	} {
		stdout, stderr, code := runCLI(t, append([]string{"classify"}, c.args...)...)
		if code != c.code || !strings.Contains(stderr, "no images found") || strings.Contains(stderr, "0 images") {
			t.Errorf("%v: exit %d (want %d)\nstdout %q\nstderr %q", c.args, code, c.code, stdout, stderr)
		}
	}
	if stdout, _, _ := runCLI(t, "help"); !strings.Contains(stdout, "8  no images") {
		t.Errorf("the usage does not document exit code 8:\n%s", stdout)
	}
	if _, stderr, _ := runCLI(t, "classify", "--help"); !strings.Contains(stderr, "8 no images found") {
		t.Errorf("classify --help does not document exit code 8:\n%s", stderr)
	}
}

func TestClassifySummaryCounts(t *testing.T) {
	_, stderr, _ := runCLI(t, "classify", fixtures+"photo-sheep.png", "missing.png")
	if !strings.Contains(stderr, "1 image in ") || !strings.Contains(stderr, "1 error [") {
		t.Errorf("summary %q, want \"1 image in\" and \"1 error\"", stderr)
	}
	_, stderr, _ = runCLI(t, "classify", fixtures+"photo-sheep.png", fixtures+"drawing-frog.png")
	if !strings.Contains(stderr, "2 images in ") || !strings.Contains(stderr, "0 errors [") {
		t.Errorf("summary %q", stderr)
	}
}

// TestProgressBarFirstRate: the first frame drawn after the first result
// shows a rate near one image per elapsed time, not thousands a second.
func TestProgressBarFirstRate(t *testing.T) {
	var b bytes.Buffer
	bar := newProgressBar(&b, 50)
	time.Sleep(100 * time.Millisecond) // the first image takes this long
	bar.Add(1)
	m := regexp.MustCompile(`(\d+) img/(s|min)`).FindAllStringSubmatch(b.String(), -1)
	if len(m) == 0 {
		t.Fatalf("no rate drawn: %q", b.String())
	}
	last := m[len(m)-1]
	rate, _ := strconv.Atoi(last[1])
	if last[2] == "min" {
		rate /= 60
	}
	if rate > 10 { // one image in ≥ 0.1 s
		t.Errorf("first frame shows %s img/%s after one image in 0.1 s:\n%q", last[1], last[2], b.String())
	}
}

// TestSlowKernelsNote: a build without the avx2 kernels says so, once, on a
// CPU that has AVX2 and FMA.
func TestSlowKernelsNote(t *testing.T) {
	if slowKernelsNote("go", true) == "" || slowKernelsNote("avx2", true) != "" || slowKernelsNote("go", false) != "" {
		t.Fatal("slowKernelsNote: wrong cases")
	}
	det, err := nsfw.Default()
	if err != nil {
		t.Fatal(err)
	}
	want := slowKernelsNote(det.Info().Kernels, hasAVX2FMA())
	_, stderr, _ := runCLI(t, "classify", fixtures+"photo-sheep.png", fixtures+"drawing-frog.png")
	if n := strings.Count(stderr, "pure-Go kernels"); want != "" && n != 1 || want == "" && n != 0 {
		t.Errorf("kernels %s, AVX2+FMA %v: the note appears %d times in %q", det.Info().Kernels, hasAVX2FMA(), n, stderr)
	}
	t.Logf("kernels %s, AVX2+FMA %v", det.Info().Kernels, hasAVX2FMA())
}

func TestInfoLicenseAndJSON(t *testing.T) {
	stdout, _, code := runCLI(t, "info", "--license")
	if code != exitOK || !strings.HasPrefix(stdout, "MIT License") || !strings.Contains(stdout, "Copyright (c) 2019 Infinite Red, Inc.") ||
		!strings.Contains(stdout, "Permission is hereby granted, free of charge") {
		t.Fatalf("info --license: exit %d\n%s", code, stdout)
	}
	stdout, _, code = runCLI(t, "info", "--json", "--model", "mid")
	var m map[string]any
	if err := json.Unmarshal([]byte(stdout), &m); err != nil || code != exitOK {
		t.Fatalf("info --json: exit %d, %v\n%s", code, err, stdout)
	}
	snake := regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`)
	for k := range m {
		if !snake.MatchString(k) {
			t.Errorf("info --json key %q is not snake_case", k)
		}
	}
	for _, k := range []string{"name", "license", "license_text", "classes", "input_width", "arena_bytes", "kernels"} {
		if _, ok := m[k]; !ok {
			t.Errorf("info --json has no %q", k)
		}
	}
	if m["name"] != "nsfwjs MobileNetV2Mid" || !strings.Contains(m["license_text"].(string), "Infinite Red") {
		t.Errorf("info --json: %v", m)
	}
}

func TestServeSendsRootToDemo(t *testing.T) {
	h := serveHandler(fstest.MapFS{"demo/index.html": {Data: []byte("<p>demo</p>")}, "nsfw.js": {Data: []byte("export {}")}})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusFound || rec.Header().Get("Location") != "/demo/" {
		t.Fatalf("GET /: %d %q, want 302 to /demo/", rec.Code, rec.Header().Get("Location"))
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/demo/", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "demo") || rec.Header().Get("Content-Security-Policy") == "" {
		t.Fatalf("GET /demo/: %d %q", rec.Code, rec.Body.String())
	}
}

// TestServeBusyPortBeforeBuild: with --build, a port in use is reported at
// once, before the minute-long build, with what to do.
func TestServeBusyPortBeforeBuild(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dir := filepath.Join(t.TempDir(), "web")
	start := time.Now()
	_, stderr, code := runCLI(t, "serve", "--build", "--dir", dir, "--addr", ln.Addr().String())
	if code != exitUsage || !strings.Contains(stderr, "in use") || !strings.Contains(stderr, "ADDR=") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(dir); err == nil || time.Since(start) > 10*time.Second {
		t.Errorf("the web folder was built (or %v passed) before the port was checked", time.Since(start))
	}
}
