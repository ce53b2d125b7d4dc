package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestRunAndSummary runs the real go test on a small module whose tests
// pass, skip with a reason, fail, and one that takes a while, and checks
// what testsum prints against what those tests did.
func TestRunAndSummary(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test on a generated module")
	}
	mod := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		p := filepath.Join(mod, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/m\n\ngo 1.24\n")
	write("good/good_test.go", `package good
import ("testing"; "time")
func TestA(t *testing.T) {}
func TestB(t *testing.T) { t.Run("sub", func(t *testing.T) {}) }
func TestSkips(t *testing.T) { t.Skip("needs the frobnicator: apt-get install frob") }
func TestSlow(t *testing.T) { time.Sleep(1500 * time.Millisecond) }
`)
	write("bad/bad_test.go", `package bad
import "testing"
func TestOK(t *testing.T) {}
func TestBroken(t *testing.T) { t.Fatal("want 4, got 5") }
`)
	write("none/none.go", "package none\n")
	write("hang/hang_test.go", "package hang\nimport (\"testing\"; \"time\")\nfunc TestHang(t *testing.T) { time.Sleep(time.Minute) }\n")
	write("broken/broken_test.go", "package broken\nimport \"testing\"\nfunc TestX(t *testing.T) { undefinedFunc() }\n")
	t.Chdir(mod)
	dir := filepath.Join(mod, "out")

	var live bytes.Buffer
	code := runCmd(dir, []string{"-label", "unit", "-tests", "good", "-every", "600ms", "--", "go", "test", "-count=1", "-json", "-timeout=5s", "./..."}, &live)
	if code != 1 {
		t.Errorf("run exit %d, want go test's 1", code)
	}
	out := live.String()
	for _, want := range []string{
		"unit       go test -count=1 -json -timeout=5s: building and testing 5 packages",
		"unit       ok    good TestSkips", // -tests: each top-level test as it ends…
		"needs the frobnicator",           // …with a skip's reason
		"unit       FAIL  bad",
		"want 4, got 5", // a failure's output right away
		"unit       FAILED in",
	} {
		if !strings.Contains(out, want) && !(want == "unit       ok    good TestSkips" && strings.Contains(out, "unit       skip  good TestSkips")) {
			t.Errorf("live output lacks %q:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`unit +ok +good +\d+\.\ds  4 passed, 1 skipped`).MatchString(out) {
		t.Errorf("no line for package good with 4 passed (TestA, TestB, TestB/sub, TestSlow), 1 skipped:\n%s", out)
	}
	if !regexp.MustCompile(`unit +… .*running good .*in TestSlow`).MatchString(out) {
		t.Errorf("no note naming the running test while TestSlow ran:\n%s", out)
	}

	var sum bytes.Buffer
	if code := summaryCmd(dir, &sum); code != 1 {
		t.Errorf("summary exit %d, want 1 (a test failed)", code)
	}
	s := sum.String()
	for _, want := range []string{
		"unit              4         1       5        1       3", // packages, no tests, passed, skipped, failed (a test, a build, a timeout)
		"skipped, and why:\n  unit good: TestSkips\n      good_test.go:5: needs the frobnicator: apt-get install frob",
		"  unit bad:\n    | --- TestBroken",
		"undefined: undefinedFunc",
		"2 packages or runs failed outside any test",
		"--- TestHang (had not ended when the package failed)",
		"panic: test timed out after 5s",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
	if lines := strings.Split(strings.TrimSpace(s), "\n"); lines[len(lines)-1] != "test: 5 passed, 3 failed, 1 skipped" {
		t.Errorf("last line %q", lines[len(lines)-1])
	}
}

// TestSummaryOfPassingRuns: two runs that pass sum up, exit 0.
func TestSummaryOfPassingRuns(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	os.WriteFile(filepath.Join(dir, "a.jsonl"), []byte(`{"Time":"`+now.Format(time.RFC3339Nano)+`","Action":"testsum-start","Output":"go test"}
{"Action":"start","Package":"m/p"}
{"Action":"run","Package":"m/p","Test":"TestX"}
{"Action":"pass","Package":"m/p","Test":"TestX","Elapsed":0.1}
{"Action":"pass","Package":"m/p","Elapsed":0.2}
{"Action":"testsum-exit","Elapsed":1.5}
`), 0o644)
	os.WriteFile(filepath.Join(dir, "b.jsonl"), []byte(`{"Time":"`+now.Add(time.Second).Format(time.RFC3339Nano)+`","Action":"testsum-start","Output":"go test"}
{"Action":"start","Package":"m/q"}
{"Action":"skip","Package":"m/q","Elapsed":0}
{"Action":"start","Package":"m/p"}
{"Action":"run","Package":"m/p","Test":"TestX"}
{"Action":"output","Package":"m/p","Test":"TestX","Output":"    x_test.go:9: -short\n"}
{"Action":"skip","Package":"m/p","Test":"TestX","Elapsed":0}
{"Action":"pass","Package":"m/p","Elapsed":0.2}
{"Action":"testsum-exit","Elapsed":2}
`), 0o644)
	var out bytes.Buffer
	if code := summaryCmd(dir, &out); code != 0 {
		t.Errorf("exit %d:\n%s", code, out.String())
	}
	s := out.String()
	if !strings.Contains(s, "  a                 1         0       1        0       0     1.5s\n  b                 1         1       0        1       0     2.0s\n  all               2         1       1        1       0") ||
		!strings.Contains(s, "b m/p: TestX\n      x_test.go:9: -short") || !strings.HasSuffix(s, "test: 1 passed, 0 failed, 1 skipped\n") {
		t.Errorf("summary:\n%s", s)
	}
	// A run that never finished fails the summary.
	os.WriteFile(filepath.Join(dir, "c.jsonl"), []byte(`{"Action":"testsum-start","Output":"go test ./x"}`+"\n"), 0o644)
	out.Reset()
	if code := summaryCmd(dir, &out); code != 1 || !strings.Contains(out.String(), "c: stopped before it finished") {
		t.Errorf("unfinished run: exit %d\n%s", code, out.String())
	}
}
