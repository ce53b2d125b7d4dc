package extbuild

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// fakeWeb stands in for a web build: the extension's packaging does not
// depend on what the engine files hold.
func fakeWeb(t *testing.T) string {
	dir := t.TempDir()
	for _, name := range engineFiles {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("// "+name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type manifest struct {
	Permissions     []string `json:"permissions"`
	HostPermissions []string `json:"host_permissions"`
	Background      struct {
		ServiceWorker string `json:"service_worker"`
	} `json:"background"`
	ContentScripts []struct {
		CSS []string `json:"css"`
		JS  []string `json:"js"`
	} `json:"content_scripts"`
	Action struct {
		DefaultPopup string            `json:"default_popup"`
		DefaultIcon  map[string]string `json:"default_icon"`
	} `json:"action"`
	OptionsUI struct {
		Page string `json:"page"`
	} `json:"options_ui"`
	Icons map[string]string `json:"icons"`
	CSP   struct {
		ExtensionPages string `json:"extension_pages"`
	} `json:"content_security_policy"`
}

// TestBuild builds the extension and checks that every file the manifest
// names ships, that the engine sits where offscreen.js imports it from,
// and that the zip is the folder, byte for byte the same when built again.
func TestBuild(t *testing.T) {
	root, _ := filepath.Abs("../..")
	web := fakeWeb(t)
	out := filepath.Join(t.TempDir(), "extension")
	zipPath := filepath.Join(t.TempDir(), "x.zip")
	if err := Build(Options{Root: root, Out: out, Zip: zipPath, Web: web}); err != nil {
		t.Fatal(err)
	}
	var m manifest
	b, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	named := []string{m.Background.ServiceWorker, m.Action.DefaultPopup, m.OptionsUI.Page, "offscreen.html"}
	for _, cs := range m.ContentScripts {
		named = append(append(named, cs.CSS...), cs.JS...)
	}
	for _, icons := range []map[string]string{m.Icons, m.Action.DefaultIcon} {
		for _, p := range icons {
			named = append(named, p)
		}
	}
	for _, name := range append(named, "engine/nsfw.js", "engine/nsfw.wasm", "engine/wasm_exec.js") {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Errorf("the manifest or offscreen.js needs %s: %v", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "README.md")); err == nil {
		t.Error("the source README ships in the extension")
	}

	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	if !slices.IsSorted(names) || !slices.Contains(names, "manifest.json") || !slices.Contains(names, "engine/nsfw.wasm") {
		t.Errorf("zip entries %v: want sorted, manifest.json at the root", names)
	}
	first, _ := os.ReadFile(zipPath)
	again := filepath.Join(t.TempDir(), "again.zip")
	if err := WriteZip(out, again); err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(again)
	if !bytes.Equal(first, second) {
		t.Error("two zips of the same folder differ")
	}
}

// TestManifestPermissions pins the permissions and the CSP: a change must
// come with its justification in web/extension/README.md.
func TestManifestPermissions(t *testing.T) {
	b, err := os.ReadFile("../../web/extension/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.Permissions, []string{"storage", "offscreen"}) || !slices.Equal(m.HostPermissions, []string{"<all_urls>"}) {
		t.Errorf("permissions %v, host permissions %v", m.Permissions, m.HostPermissions)
	}
	if want := "script-src 'self' 'wasm-unsafe-eval'; object-src 'self'"; m.CSP.ExtensionPages != want {
		t.Errorf("CSP %q, want %q (MV3's default plus 'wasm-unsafe-eval' only)", m.CSP.ExtensionPages, want)
	}
	readme, _ := os.ReadFile("../../web/extension/README.md")
	for _, p := range append(m.Permissions, m.HostPermissions...) {
		if !strings.Contains(string(readme), "`"+p+"`") {
			t.Errorf("web/extension/README.md does not justify %s", p)
		}
	}
}

// TestNoEval checks that no script of the extension evaluates strings.
func TestNoEval(t *testing.T) {
	files, _ := filepath.Glob("../../web/extension/*.js")
	if len(files) == 0 {
		t.Fatal("no scripts found")
	}
	banned := regexp.MustCompile(`\beval\s*\(|new\s+Function\s*\(|set(Timeout|Interval)\s*\(\s*['"\x60]`)
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if loc := banned.FindIndex(b); loc != nil {
			t.Errorf("%s: %q", filepath.Base(f), b[loc[0]:loc[1]])
		}
	}
}

// TestRefusesForeignFolder: -out pointing at a folder of other files must
// not wipe it.
func TestRefusesForeignFolder(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("keep"), 0o644)
	if err := Build(Options{Root: "../..", Out: dir, Web: fakeWeb(t)}); err == nil || !strings.Contains(err.Error(), "not replacing") {
		t.Fatalf("got %v, want a refusal", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil {
		t.Fatal("the folder was wiped")
	}
}

func TestIcons(t *testing.T) {
	for _, size := range IconSizes {
		if !bytes.Equal(Icon(size), Icon(size)) || len(Icon(size)) < 100 {
			t.Errorf("icon %d is not reproducible or empty", size)
		}
	}
}
