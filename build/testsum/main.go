// Command testsum runs the go test commands of make test and reports on them
// as a person waiting for them needs: one line per package as it ends, each
// top-level test of the packages named by -tests as it ends, a note of what
// is running whenever nothing was printed for 30 s, and at the end one
// summary of every run: packages, tests passed, tests skipped with the
// reason each gave, and failures with their output.
//
//	testsum -dir DIR run -label LABEL [-tests PKG,...] -- go test -json [flags] [packages]
//	testsum -dir DIR summary
//	testsum watch -label LABEL -- COMMAND...
//
// watch runs any other command (go vet, which compiles what it checks and
// prints nothing meanwhile) with its output as is, and the same note when it
// is silent for 30 s.
//
// run saves the events of its command (go test -json streams them as they
// happen) in DIR/LABEL.jsonl and exits with the command's status; summary
// reads every such file in DIR and exits 1 when anything failed. Its last
// line has the plain form "test: N passed, N failed, N skipped".
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

func main() {
	dir := flag.String("dir", "build/cache/test", "folder of the saved runs")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: testsum [-dir DIR] run -label LABEL [-tests PKG,...] [-every 30s] -- go test -json ...\n       testsum [-dir DIR] summary\n       testsum watch -label LABEL [-every 30s] -- COMMAND...")
		flag.PrintDefaults()
	}
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 {
		flag.Usage()
		os.Exit(2)
	}
	switch args[0] {
	case "run":
		os.Exit(runCmd(*dir, args[1:], os.Stdout))
	case "summary":
		os.Exit(summaryCmd(*dir, os.Stdout))
	case "watch":
		os.Exit(watchCmd(args[1:], os.Stdout))
	}
	flag.Usage()
	os.Exit(2)
}

// event is one line of go test -json (cmd/test2json's TestEvent, plus the
// ImportPath of build-output events), or one of testsum's own records:
// testsum-start (Output holds the command), testsum-stderr (a line the
// command wrote to stderr, or a stdout line that is not JSON) and
// testsum-exit (Output holds the exit error, if any; Elapsed the run's
// duration).
type event struct {
	Time        time.Time `json:",omitzero"`
	Action      string
	Package     string  `json:",omitempty"`
	ImportPath  string  `json:",omitempty"`
	Test        string  `json:",omitempty"`
	Elapsed     float64 `json:",omitempty"`
	Output      string  `json:",omitempty"`
	FailedBuild string  `json:",omitempty"`
}

// runCmd runs one go test command; see the package comment.
func runCmd(dir string, args []string, out io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	label := fs.String("label", "go", "name of this run in the output and the summary")
	tests := fs.String("tests", "", "packages (paths in the module, comma-separated) whose top-level tests are printed as they end")
	every := fs.Duration("every", 30*time.Second, "print a note after this long without output")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cmdArgs := fs.Args()
	if len(cmdArgs) == 0 {
		fmt.Fprintln(os.Stderr, "testsum run: no command given")
		return 2
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "testsum:", err)
		return 2
	}
	file, err := os.Create(filepath.Join(dir, *label+".jsonl"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsum:", err)
		return 2
	}
	defer file.Close()

	r := &live{label: *label, out: out, run: newRun(*label), module: modulePath(),
		expected: expectedPackages(cmdArgs), lastPrint: time.Now(), started: time.Now(), tests: map[string]bool{}}
	for _, p := range strings.Split(*tests, ",") {
		if p = strings.Trim(strings.TrimSpace(p), "/"); p != "" {
			r.tests[strings.TrimPrefix(p, "./")] = true
		}
	}
	save := json.NewEncoder(file)
	var saveMu sync.Mutex
	record := func(e event) {
		saveMu.Lock()
		defer saveMu.Unlock()
		save.Encode(e)
	}
	record(event{Time: r.started, Action: "testsum-start", Output: strings.Join(cmdArgs, " ")})

	cmd := exec.Command(cmdArgs[0], cmdArgs[1:]...)
	cmd.Stdin = nil
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsum:", err)
		return 2
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsum:", err)
		return 2
	}
	r.printf("%s\n", r.startLine(cmdArgs))
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "testsum:", err)
		record(event{Action: "testsum-exit", Output: err.Error()})
		return 2
	}

	stop := make(chan struct{})
	go r.heartbeat(*every, stop)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			line := sc.Bytes()
			var e event
			if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil || e.Action == "" {
				e = event{Action: "testsum-stderr", Output: string(line)}
			}
			record(e)
			r.add(e)
		}
	}()
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			e := event{Action: "testsum-stderr", Output: sc.Text()}
			record(e)
			r.add(e)
		}
	}()
	wg.Wait()
	waitErr := cmd.Wait()
	close(stop)
	elapsed := time.Since(r.started)
	exit := event{Action: "testsum-exit", Elapsed: elapsed.Seconds()}
	if waitErr != nil {
		exit.Output = waitErr.Error()
	}
	record(exit)
	r.add(exit)
	r.printf("%s\n", r.endLine())
	if ee, ok := waitErr.(*exec.ExitError); ok {
		return ee.ExitCode()
	} else if waitErr != nil {
		return 1
	}
	return 0
}

// watchCmd runs a command with its output as is, and a note whenever it was
// silent for a while.
func watchCmd(args []string, out io.Writer) int {
	fs := flag.NewFlagSet("watch", flag.ContinueOnError)
	label := fs.String("label", "", "name printed with the notes")
	every := fs.Duration("every", 30*time.Second, "print a note after this long without output")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "testsum watch: no command given")
		return 2
	}
	w := &watcher{out: out, last: time.Now()}
	cmd := exec.Command(fs.Arg(0), fs.Args()[1:]...)
	cmd.Stdout, cmd.Stderr = w, w
	start := time.Now()
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "testsum:", err)
		return 2
	}
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(*every / 6)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			w.mu.Lock()
			if time.Since(w.last) >= *every {
				fmt.Fprintf(w.out, "%-10s …     %s: still running %s\n", *label, duration(time.Since(start).Seconds()), strings.Join(fs.Args(), " "))
				w.last = time.Now()
			}
			w.mu.Unlock()
		}
	}()
	err := cmd.Wait()
	close(stop)
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	} else if err != nil {
		return 1
	}
	return 0
}

// watcher passes output through, noting when it last came.
type watcher struct {
	mu   sync.Mutex
	out  io.Writer
	last time.Time
}

func (w *watcher) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last = time.Now()
	return w.out.Write(b)
}

// live prints a run's progress as its events arrive.
type live struct {
	label    string
	out      io.Writer
	tests    map[string]bool // short package names whose tests are printed
	module   string
	expected []string // the packages go test will report, when known

	mu        sync.Mutex
	run       *run
	lastPrint time.Time
	started   time.Time
}

func (r *live) printf(format string, args ...any) {
	// One write per line, so that runs printing side by side do not mix
	// within a line.
	fmt.Fprintf(r.out, format, args...)
	r.lastPrint = time.Now()
}

func (r *live) startLine(cmd []string) string {
	// The command without its (maybe long) package list.
	var shown []string
	for _, a := range cmd {
		if strings.HasPrefix(a, "-") || len(shown) < 2 {
			shown = append(shown, a)
		}
	}
	what := "its packages"
	switch len(r.expected) {
	case 0:
	case 1:
		what = short(r.expected[0], r.module)
	default:
		what = fmt.Sprintf("%d packages", len(r.expected))
	}
	return fmt.Sprintf("%-10s %s: building and testing %s", r.label, strings.Join(shown, " "), what)
}

func (r *live) endLine() string {
	c := r.run.counts()
	status := "done"
	if r.run.failed() {
		status = "FAILED"
	}
	return fmt.Sprintf("%-10s %s in %s: %s", r.label, status, duration(r.run.elapsed), c)
}

func (r *live) add(e event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.run.add(e)
	switch {
	case e.Action == "testsum-stderr":
		if strings.TrimSpace(e.Output) != "" {
			r.printf("%-10s %s\n", r.label, e.Output)
		}
	case isEnd(e.Action) && e.Test != "" && !strings.Contains(e.Test, "/") && r.tests[short(e.Package, r.module)]:
		p := r.run.pkgs[e.Package]
		t := p.tests[e.Test]
		line := fmt.Sprintf("%-10s %-5s %s %s %s", r.label, word(e.Action), short(e.Package, r.module), e.Test, duration(e.Elapsed))
		if e.Action == "skip" {
			line += ": " + t.reason()
		}
		r.printf("%s\n", line)
		if e.Action == "fail" {
			r.printf("%s", indent(tail(t.output, 40), "           | "))
		}
	case isEnd(e.Action) && e.Test == "" && e.Package != "":
		p := r.run.pkgs[e.Package]
		if e.Action == "skip" && len(p.tests) == 0 {
			return // no test files: counted in the summary only
		}
		r.printf("%-10s %-5s %-28s %8s  %s\n", r.label, word(p.status()), short(e.Package, r.module), duration(e.Elapsed), p.counts())
		if p.status() == "fail" {
			r.printf("%s", indent(p.failureReport(40), "           | "))
		}
	}
}

// heartbeat prints a note whenever nothing was printed for every.
func (r *live) heartbeat(every time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(every / 6)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		r.mu.Lock()
		if time.Since(r.lastPrint) >= every {
			r.printf("%-10s …     %s: %s\n", r.label, duration(time.Since(r.started).Seconds()), r.waitingFor())
		}
		r.mu.Unlock()
	}
}

// waitingFor says what the run is doing: the packages whose tests run (and
// their oldest running top-level test), and how many are done.
func (r *live) waitingFor() string {
	var running []string
	done := 0
	for _, name := range sortedKeys(r.run.pkgs) {
		p := r.run.pkgs[name]
		switch {
		case p.action != "":
			done++
		case !p.start.IsZero():
			what := short(name, r.module) + fmt.Sprintf(" for %s", duration(time.Since(p.start).Seconds()))
			if t := p.oldestRunning(); t != nil {
				what += fmt.Sprintf(", in %s for %s", t.name, duration(time.Since(t.start).Seconds()))
			} else if len(p.tests) == 0 {
				what += ", before its first test (TestMain)"
			}
			running = append(running, what)
		}
	}
	status := "building test binaries"
	if len(running) > 0 {
		status = "running " + strings.Join(running, "; ")
	}
	if len(r.expected) > 0 {
		return fmt.Sprintf("%s (%d of %d packages done)", status, done, len(r.expected))
	}
	return fmt.Sprintf("%s (%d packages done)", status, done)
}

// expectedPackages lists the packages a go test command will report, by
// asking go list. It returns nil when the command is not go test or go list
// fails.
func expectedPackages(cmd []string) []string {
	if len(cmd) < 2 || filepath.Base(cmd[0]) != "go" || cmd[1] != "test" {
		return nil
	}
	var patterns, listFlags []string
	args := cmd[2:]
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || a == "-args" {
			break
		}
		if strings.HasPrefix(a, "-") {
			name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if name == "tags" {
				if !hasValue && i+1 < len(args) {
					listFlags = append(listFlags, "-tags", args[i+1])
				} else {
					listFlags = append(listFlags, a)
				}
			}
			if !hasValue && valueFlags[name] {
				i++
			}
			continue
		}
		patterns = append(patterns, a)
	}
	if len(patterns) == 0 {
		patterns = []string{"."}
	}
	list := exec.Command(cmd[0], append(append([]string{"list", "-e", "-f", "{{.ImportPath}}"}, listFlags...), patterns...)...)
	b, err := list.Output()
	if err != nil {
		return nil
	}
	return strings.Fields(string(b))
}

// valueFlags are the go test and build flags that take a value, which may
// come as the next argument.
var valueFlags = map[string]bool{
	"run": true, "skip": true, "bench": true, "benchtime": true, "count": true, "cpu": true, "exec": true,
	"parallel": true, "timeout": true, "tags": true, "p": true, "o": true, "coverprofile": true,
	"coverpkg": true, "covermode": true, "ldflags": true, "gcflags": true, "asmflags": true, "mod": true,
	"modfile": true, "overlay": true, "pgo": true, "fuzz": true, "fuzztime": true, "shuffle": true,
	"outputdir": true, "cpuprofile": true, "memprofile": true, "blockprofile": true, "mutexprofile": true,
	"trace": true, "vet": true, "C": true, "toolexec": true, "buildmode": true, "compiler": true,
	"installsuffix": true, "pkgdir": true, "json": false,
}

// modulePath reads the module path from go.mod in the working directory.
func modulePath() string {
	b, err := os.ReadFile("go.mod")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if m, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(m), `"`)
		}
	}
	return ""
}

// short names a package by its path in the module ("." for the root).
func short(pkg, module string) string {
	if module == "" {
		return pkg
	}
	if pkg == module {
		return "."
	}
	if rest, ok := strings.CutPrefix(pkg, module+"/"); ok {
		return rest
	}
	return pkg
}

func isEnd(action string) bool { return action == "pass" || action == "fail" || action == "skip" }

func word(action string) string {
	switch action {
	case "pass":
		return "ok"
	case "fail":
		return "FAIL"
	case "skip":
		return "skip"
	}
	return action
}

// duration formats seconds as 4.2s or 3m05s.
func duration(s float64) string {
	if s < 60 {
		return fmt.Sprintf("%.1fs", s)
	}
	d := time.Duration(s * float64(time.Second)).Round(time.Second)
	return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func tail(lines []string, n int) []string {
	if len(lines) > n {
		return append([]string{fmt.Sprintf("(%d lines before these)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return lines
}

// keyLines is the tail of lines, after the lines above it that say why a
// test binary died (a panic, a timeout), which a goroutine dump pushes out.
func keyLines(lines []string, n int) []string {
	if len(lines) <= n {
		return lines
	}
	var key []string
	for _, l := range lines[:len(lines)-n] {
		if strings.HasPrefix(l, "panic: ") || strings.HasPrefix(l, "*** Test killed") || strings.HasPrefix(l, "fatal error: ") {
			key = append(key, l)
		}
	}
	return append(key, tail(lines, n)...)
}

func indent(lines []string, prefix string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(prefix)
		b.WriteString(strings.TrimRight(l, "\n"))
		b.WriteString("\n")
	}
	return b.String()
}

// run is what one go test command reported.
type run struct {
	label    string
	command  string
	pkgs     map[string]*pkg
	order    []string
	stderr   []string
	exited   bool
	exitErr  string
	elapsed  float64
	lastTime time.Time
}

type pkg struct {
	name     string
	start    time.Time // when its test binary started
	action   string    // pass, fail or skip once the package has ended
	elapsed  float64
	output   []string // lines printed outside any test
	build    []string // build errors
	tests    map[string]*test
	order    []string
	buildErr string // FailedBuild
}

type test struct {
	name    string
	start   time.Time
	action  string
	elapsed float64
	output  []string
}

// oldestRunning is the top-level test that has run longest without ending.
func (p *pkg) oldestRunning() *test {
	var oldest *test
	for _, name := range p.order {
		t := p.tests[name]
		if t.action == "" && !strings.Contains(name, "/") && !t.start.IsZero() && (oldest == nil || t.start.Before(oldest.start)) {
			oldest = t
		}
	}
	return oldest
}

func newRun(label string) *run { return &run{label: label, pkgs: map[string]*pkg{}} }

func (r *run) pkg(name string) *pkg {
	p, ok := r.pkgs[name]
	if !ok {
		p = &pkg{name: name, tests: map[string]*test{}}
		r.pkgs[name] = p
		r.order = append(r.order, name)
	}
	return p
}

func (r *run) add(e event) {
	switch e.Action {
	case "testsum-start":
		r.command = e.Output
		return
	case "testsum-stderr":
		if strings.TrimSpace(e.Output) != "" {
			r.stderr = append(r.stderr, e.Output)
		}
		return
	case "testsum-exit":
		r.exited, r.exitErr, r.elapsed = true, e.Output, e.Elapsed
		return
	case "build-output":
		// "pkg [pkg.test]" is the package built for its tests.
		name, _, _ := strings.Cut(e.ImportPath, " ")
		p := r.pkg(name)
		p.build = append(p.build, strings.TrimRight(e.Output, "\n"))
		return
	case "build-fail":
		return
	}
	if e.Package == "" {
		return
	}
	p := r.pkg(e.Package)
	if e.Test == "" {
		switch e.Action {
		case "start":
			p.start = e.Time
		case "output":
			p.output = append(p.output, strings.TrimRight(e.Output, "\n"))
		case "pass", "fail", "skip":
			p.action, p.elapsed, p.buildErr = e.Action, e.Elapsed, e.FailedBuild
		}
		return
	}
	t, ok := p.tests[e.Test]
	if !ok {
		t = &test{name: e.Test}
		p.tests[e.Test] = t
		p.order = append(p.order, e.Test)
	}
	switch e.Action {
	case "run":
		t.start = e.Time
	case "output":
		t.output = append(t.output, strings.TrimRight(e.Output, "\n"))
	case "pass", "fail", "skip":
		t.action, t.elapsed = e.Action, e.Elapsed
	}
}

// tally counts the tests of a package or a run.
type tally struct{ passed, skipped, failed int }

func (t tally) String() string {
	s := fmt.Sprintf("%d passed", t.passed)
	if t.skipped > 0 {
		s += fmt.Sprintf(", %d skipped", t.skipped)
	}
	if t.failed > 0 {
		s += fmt.Sprintf(", %d failed", t.failed)
	}
	return s
}

func (p *pkg) tally() tally {
	var c tally
	for _, t := range p.tests {
		switch t.action {
		case "pass":
			c.passed++
		case "skip":
			c.skipped++
		case "fail":
			c.failed++
		}
	}
	return c
}

func (p *pkg) counts() string { return p.tally().String() }

// status is the package's result: a package that never ended failed.
func (p *pkg) status() string {
	if p.action == "" || len(p.build) > 0 && p.action != "pass" {
		return "fail"
	}
	if p.action == "skip" && len(p.tests) > 0 {
		return "pass" // every test skipped: the run still passed
	}
	return p.action
}

// failureReport is what a failed package printed: its failed tests'
// output, or (for build failures, panics and timeouts) its own.
func (p *pkg) failureReport(max int) []string {
	var lines []string
	for _, name := range p.order {
		t := p.tests[name]
		if t.action != "fail" || p.hasFailedSubtest(name) {
			continue
		}
		lines = append(lines, "--- "+name)
		lines = append(lines, tail(t.output, max)...)
	}
	// Tests still running when the package failed: a timeout or a crash,
	// whose report (goroutines, "ran too long") is in their output.
	for _, name := range p.order {
		t := p.tests[name]
		if t.action != "" || p.action == "" || p.hasUnfinishedSubtest(name) {
			continue
		}
		lines = append(lines, "--- "+name+" (had not ended when the package failed)")
		lines = append(lines, keyLines(t.output, max)...)
	}
	if len(lines) == 0 {
		lines = append(lines, tail(append(append([]string{}, p.build...), p.output...), max)...)
	}
	return lines
}

func (p *pkg) hasUnfinishedSubtest(name string) bool {
	for sub, t := range p.tests {
		if t.action == "" && strings.HasPrefix(sub, name+"/") {
			return true
		}
	}
	return false
}

func (p *pkg) hasFailedSubtest(name string) bool {
	for sub, t := range p.tests {
		if t.action == "fail" && strings.HasPrefix(sub, name+"/") {
			return true
		}
	}
	return false
}

// reason is what a skipped test said: its output without test2json's
// framing lines.
func (t *test) reason() string {
	var msg []string
	for _, l := range t.output {
		s := strings.TrimSpace(l)
		if s == "" || strings.HasPrefix(s, "=== ") || strings.HasPrefix(s, "--- SKIP") {
			continue
		}
		msg = append(msg, s)
	}
	if len(msg) == 0 {
		return "(no reason given)"
	}
	return strings.Join(msg, " / ")
}

func (r *run) tally() tally {
	var c tally
	for _, p := range r.pkgs {
		pc := p.tally()
		c.passed += pc.passed
		c.skipped += pc.skipped
		c.failed += pc.failed
	}
	return c
}

func (r *run) counts() string {
	tested, none := r.packageCounts()
	return fmt.Sprintf("%s (and %d without tests), %s", plural(tested, "package", "packages"), none, r.tally())
}

// packageCounts splits the packages into those with tests and those without.
func (r *run) packageCounts() (tested, none int) {
	for _, p := range r.pkgs {
		if p.action == "skip" && len(p.tests) == 0 {
			none++
		} else {
			tested++
		}
	}
	return tested, none
}

// failed reports whether anything in the run failed, including the command.
func (r *run) failed() bool {
	if !r.exited || r.exitErr != "" {
		return true
	}
	for _, p := range r.pkgs {
		if p.status() == "fail" || p.tally().failed > 0 {
			return true
		}
	}
	return false
}

// summaryCmd prints the summary of every run saved in dir.
func summaryCmd(dir string, out io.Writer) int {
	runs, err := loadRuns(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsum:", err)
		return 1
	}
	if len(runs) == 0 {
		fmt.Fprintf(out, "testsum: no test runs recorded in %s\n", dir)
		return 1
	}
	return printSummary(out, runs)
}

func loadRuns(dir string) ([]*run, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		return nil, err
	}
	var runs []*run
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		r := newRun(strings.TrimSuffix(filepath.Base(f), ".jsonl"))
		for _, line := range bytes.Split(b, []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			var e event
			if err := json.Unmarshal(line, &e); err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			if e.Action == "testsum-start" {
				r.lastTime = e.Time
			}
			r.add(e)
		}
		runs = append(runs, r)
	}
	// In the order the runs started.
	slices.SortStableFunc(runs, func(a, b *run) int { return a.lastTime.Compare(b.lastTime) })
	return runs, nil
}

func printSummary(out io.Writer, runs []*run) int {
	module := modulePath()
	var b strings.Builder
	fmt.Fprintf(&b, "\nsummary:\n  %-10s %8s %9s %7s %8s %7s %8s\n", "run", "packages", "no tests", "passed", "skipped", "failed", "time")
	var total tally
	var totalPkgs, totalNone int
	status := 0
	outside := 0 // packages and runs that failed outside any test
	for _, r := range runs {
		c := r.tally()
		if n := r.failedOutsideTests(); n > 0 {
			c.failed += n
			outside += n
		}
		tested, none := r.packageCounts()
		t := duration(r.elapsed)
		if !r.exited {
			t = "stopped"
		}
		fmt.Fprintf(&b, "  %-10s %8d %9d %7d %8d %7d %8s\n", r.label, tested, none, c.passed, c.skipped, c.failed, t)
		total.passed += c.passed
		total.skipped += c.skipped
		total.failed += c.failed
		totalPkgs += tested
		totalNone += none
		if r.failed() {
			status = 1
		}
	}
	fmt.Fprintf(&b, "  %-10s %8d %9d %7d %8d %7d\n", "all", totalPkgs, totalNone, total.passed, total.skipped, total.failed)

	// Skips, grouped by run, package and reason.
	type group struct {
		where, reason string
		tests         []string
	}
	var groups []*group
	for _, r := range runs {
		for _, name := range sortedKeys(r.pkgs) {
			p := r.pkgs[name]
			byReason := map[string]*group{}
			for _, tn := range p.order {
				t := p.tests[tn]
				if t.action != "skip" {
					continue
				}
				reason := t.reason()
				g, ok := byReason[reason]
				if !ok {
					g = &group{where: fmt.Sprintf("%s %s", r.label, short(name, module)), reason: reason}
					byReason[reason] = g
					groups = append(groups, g)
				}
				g.tests = append(g.tests, tn)
			}
		}
	}
	if len(groups) > 0 {
		fmt.Fprintf(&b, "\nskipped, and why:\n")
		for _, g := range groups {
			names := strings.Join(g.tests, ", ")
			if len(g.tests) > 4 {
				names = fmt.Sprintf("%s and %d more", strings.Join(g.tests[:3], ", "), len(g.tests)-3)
			}
			fmt.Fprintf(&b, "  %s: %s\n      %s\n", g.where, names, g.reason)
		}
	}

	// Failures, with what they printed.
	var failures strings.Builder
	for _, r := range runs {
		for _, name := range r.order {
			p := r.pkgs[name]
			if p.status() == "fail" || p.tally().failed > 0 {
				fmt.Fprintf(&failures, "  %s %s:\n%s", r.label, short(name, module), indent(p.failureReport(30), "    | "))
			}
		}
		if !r.exited {
			fmt.Fprintf(&failures, "  %s: stopped before it finished (%s)\n", r.label, r.command)
		} else if r.exitErr != "" && len(r.stderr) > 0 {
			fmt.Fprintf(&failures, "  %s: %s; it printed:\n%s", r.label, r.exitErr, indent(tail(r.stderr, 30), "    | "))
		} else if r.exitErr != "" && !anyFailed(r) {
			fmt.Fprintf(&failures, "  %s: %s (%s)\n", r.label, r.exitErr, r.command)
		}
	}
	if failures.Len() > 0 {
		fmt.Fprintf(&b, "\nfailed:\n%s", failures.String())
	}
	if outside > 0 {
		fmt.Fprintf(&b, "\n%s failed outside any test (a build error, a panic, a timeout): see above\n", plural(outside, "package or run", "packages or runs"))
	}
	// The closing line, in the plain form CI reads.
	fmt.Fprintf(&b, "\ntest: %d passed, %d failed, %d skipped\n", total.passed, total.failed, total.skipped)
	io.WriteString(out, b.String())
	return status
}

// failedOutsideTests counts the packages that failed with no failed test,
// and the run itself when it failed with no failed package.
func (r *run) failedOutsideTests() int {
	n := 0
	for _, p := range r.pkgs {
		if p.status() == "fail" && p.tally().failed == 0 {
			n++
		}
	}
	if n == 0 && r.failed() && !anyFailed(r) {
		n = 1
	}
	return n
}

func anyFailed(r *run) bool {
	for _, p := range r.pkgs {
		if p.status() == "fail" || p.tally().failed > 0 {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
