package tfjs

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nsfw-go/nsfw/internal/format"
	"github.com/nsfw-go/nsfw/model/mobilenetv2"
	"github.com/nsfw-go/nsfw/model/mobilenetv2mid"
)

func TestParseJSLiteral(t *testing.T) {
	cases := map[string]string{
		`{a:1,b:"x",c:[1,2,.5,-3e-2],d:!0,e:!1,f:null,g:void 0}`: `{"a":1,"b":"x","c":[1,2,0.5,-0.03],"d":true,"e":false,"f":null,"g":null}`,
		`{"quoted key":'single',n:{m:[]}}`:                       `{"n":{"m":[]},"quoted key":"single"}`,
		`{s:"a\"b\\c\n\u00e9\x41"}`:                              `{"s":"a\"b\\c\né` + "A" + `"}`,
		`[ 1 , { x : 2 } , ]`:                                    `[1,{"x":2}]`,
		`{a:-.5,b:+1,c:1E3}`:                                     `{"a":-0.5,"b":1,"c":1000}`,
	}
	for src, want := range cases {
		v, _, err := parseJSLiteral(src)
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		got, _ := json.Marshal(v)
		if string(got) != want {
			t.Errorf("%s: got %s, want %s", src, got, want)
		}
	}
	// The parser stops after the literal: the rest of the bundle follows.
	_, n, err := parseJSLiteral(`{a:1}},{}]},{},[1])(1)});`)
	if err != nil || n != 5 {
		t.Errorf("consumed %d, err %v", n, err)
	}
	for _, bad := range []string{``, `{`, `{a:}`, `{a 1}`, `"unterminated`, `[1,2`, `{a:foo()}`, `{a:!2}`, `{a:"\u12"}`, strings.Repeat("[", 300)} {
		if _, _, err := parseJSLiteral(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

func TestSamePadding(t *testing.T) {
	for _, c := range []struct{ n, k, s, before, after int }{
		{224, 3, 2, 0, 1}, {112, 3, 1, 1, 1}, {7, 1, 1, 0, 0}, {5, 3, 2, 1, 1}, {6, 7, 1, 3, 3},
	} {
		b, a := samePadding(c.n, c.k, c.s)
		if b != c.before || a != c.after {
			t.Errorf("SAME(%d, k%d, s%d) = %d,%d, want %d,%d", c.n, c.k, c.s, b, a, c.before, c.after)
		}
	}
}

func tgz(t *testing.T, files map[string]string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, body := range files {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(body))
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func TestOpenTarball(t *testing.T) {
	data := tgz(t, map[string]string{"package/LICENSE": "MIT License"})
	if _, err := OpenTarball(data, NSFWJSIntegrity); err == nil || !strings.Contains(err.Error(), "integrity mismatch") {
		t.Fatalf("wrong integrity: %v", err)
	}
	pkg, err := OpenTarball(data, Integrity(data))
	if err != nil || string(pkg.Files["package/LICENSE"]) != "MIT License" {
		t.Fatalf("%v %v", pkg, err)
	}
	if _, err := OpenTarball([]byte("not gzip"), ""); err == nil {
		t.Fatal("garbage accepted")
	}
	if _, err := ConvertNSFWJS(pkg, "default"); err == nil {
		t.Fatal("converted a package without models")
	}
	if _, err := ConvertNSFWJS(pkg, "large"); err == nil || !strings.Contains(err.Error(), "unknown nsfwjs model") {
		t.Fatalf("unknown model: %v", err)
	}
}

// nsfwjsTarball finds the pinned nsfwjs tarball: $NSFWJS_TGZ, the build
// cache, or npm pack into the build cache. Without npm, or without a
// registry to fetch from, the test is skipped with the reason, unless
// NSFW_REQUIRE_NETWORK=1 (as CI sets) makes that a failure.
func nsfwjsTarball(t *testing.T) []byte {
	path := os.Getenv("NSFWJS_TGZ")
	if path == "" {
		cache, _ := filepath.Abs("../../../build/cache")
		path = filepath.Join(cache, "nsfwjs-"+NSFWJSVersion+".tgz")
		if _, err := os.Stat(path); err != nil {
			err := packNSFWJS(cache, 1)
			switch {
			case err == nil:
			case errors.Is(err, errNoNPM) || errors.Is(err, errRegistryUnreachable):
				msg := fmt.Sprintf("cannot check that conversion reproduces the committed models: %v; "+
					"set NSFWJS_TGZ to a copy of %s@%s's tarball to run it offline", err, NSFWJSPackage, NSFWJSVersion)
				if os.Getenv("NSFW_REQUIRE_NETWORK") == "1" {
					t.Fatal(msg + " (NSFW_REQUIRE_NETWORK=1 makes this a failure)")
				}
				t.Skip(msg)
			default:
				t.Fatal(err)
			}
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	errNoNPM               = errors.New("npm is not installed")
	errRegistryUnreachable = errors.New("the npm registry cannot be reached")
)

// packNSFWJS runs npm pack for the pinned nsfwjs into dir, retrying a
// failed fetch retries times; env is added to npm's environment. A failure to reach the registry wraps
// errRegistryUnreachable; any other failure carries npm's own message.
func packNSFWJS(dir string, retries int, env ...string) error {
	if _, err := exec.LookPath("npm"); err != nil {
		return errNoNPM
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// Bounded, so that a network that drops packets fails in minutes rather
	// than after npm's default five-minute timeout, three times.
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "pack", NSFWJSPackage+"@"+NSFWJSVersion, "--pack-destination", dir,
		"--loglevel=error", fmt.Sprintf("--fetch-retries=%d", retries), "--fetch-timeout=120000", "--no-audit", "--no-fund")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err == nil {
		return nil
	}
	if code := npmNetworkError(string(out)); code != "" || ctx.Err() != nil {
		if code == "" {
			code = "timed out"
		}
		return fmt.Errorf("%w (npm pack: %s)", errRegistryUnreachable, code)
	}
	return fmt.Errorf("npm pack %s@%s: %v\n%s", NSFWJSPackage, NSFWJSVersion, err, out)
}

// npmNetworkError returns the error code in npm's output when it says the
// registry could not be reached (connection refused or reset, no DNS, no
// route, a timeout, or a proxy's 5xx), and "" for any other failure.
func npmNetworkError(out string) string {
	m := regexp.MustCompile(`(?m)^npm (?:ERR!|error) code (\S+)`).FindStringSubmatch(out)
	if m == nil {
		return ""
	}
	switch code := m[1]; {
	case slices.Contains([]string{"ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT",
		"ESOCKETTIMEDOUT", "ERR_SOCKET_TIMEOUT", "ENETUNREACH", "EHOSTUNREACH", "ENETDOWN", "EPROTO",
		"UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "SELF_SIGNED_CERT_IN_CHAIN"}, code):
		return code
	case regexp.MustCompile(`^E5\d\d$`).MatchString(code):
		return code
	}
	return ""
}

// TestNPMRegistryUnreachable runs the real npm against a closed port: the
// failure must read as an unreachable registry (a skip), while other npm
// failures must not.
func TestNPMRegistryUnreachable(t *testing.T) {
	for _, c := range []struct{ out, code string }{
		{"npm error code ECONNREFUSED\nnpm error syscall connect\n", "ECONNREFUSED"},
		{"npm ERR! code ENOTFOUND\nnpm ERR! errno ENOTFOUND\n", "ENOTFOUND"},
		{"npm error code EAI_AGAIN\n", "EAI_AGAIN"},
		{"npm error code E503\nnpm error 503 Service Unavailable\n", "E503"},
		{"npm error code E404\nnpm error 404 Not Found - GET https://registry/nsfwjs\n", ""},
		{"npm error code EINTEGRITY\n", ""},
		{"npm error code ENOSPC\n", ""},
		{"some other failure\n", ""},
	} {
		if got := npmNetworkError(c.out); got != c.code {
			t.Errorf("npmNetworkError(%q) = %q, want %q", c.out, got, c.code)
		}
	}
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm is not installed: only the message classification was checked")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	err = packNSFWJS(t.TempDir(), 0, "npm_config_registry=http://"+closed+"/", "npm_config_cache="+t.TempDir())
	if !errors.Is(err, errRegistryUnreachable) || !strings.Contains(err.Error(), "ECONNREFUSED") {
		t.Fatalf("npm pack against a closed port: %v; want %v with ECONNREFUSED", err, errRegistryUnreachable)
	}
}

// TestReproducesCommittedModels converts nsfwjs again and compares with the
// embedded files byte for byte.
func TestReproducesCommittedModels(t *testing.T) {
	pkg, err := OpenTarball(nsfwjsTarball(t), NSFWJSIntegrity)
	if err != nil {
		t.Fatal(err)
	}
	for which, committed := range map[string][]byte{"default": mobilenetv2.Bytes(), "mid": mobilenetv2mid.Bytes()} {
		f, err := ConvertNSFWJS(pkg, which)
		if err != nil {
			t.Fatal(err)
		}
		b, err := format.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, committed) {
			t.Errorf("%s: conversion gives %d bytes that differ from the committed %d-byte model: run make model", which, len(b), len(committed))
		}
		// The uint8 codes are the source's, untouched.
		bnd, _ := LoadBundle(pkg, Models[which].Dir)
		for _, tn := range f.Tensors {
			if w, ok := bnd.Weights[tn.Name]; ok && tn.Q != nil && !bytes.Equal(tn.Q, w.Codes) {
				t.Errorf("%s: %s codes changed", which, tn.Name)
			}
		}
	}
}

// TestConverterRejectsUnsupportedLayers feeds a tiny Keras model with a
// layer the engine lacks.
func TestConverterRejectsUnsupportedLayers(t *testing.T) {
	top := `{"model_config":{"class_name":"Model","config":{"layers":[
		{"name":"in","class_name":"InputLayer","config":{"batch_input_shape":[null,4,4,3]},"inbound_nodes":[]},
		{"name":"mp","class_name":"MaxPooling2D","config":{},"inbound_nodes":[[["in",0,0,{}]]]}],
		"output_layers":[["mp",0,0]]}}}`
	bnd := &Bundle{Model: ModelJSON{ModelTopology: json.RawMessage(top)}, Weights: map[string]*RawWeight{}}
	if _, err := ConvertLayersModel(bnd); err == nil || !strings.Contains(err.Error(), "unsupported layer type MaxPooling2D") {
		t.Fatalf("err = %v", err)
	}
}
