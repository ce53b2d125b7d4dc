// Package webbuild assembles the servable web folder: the engine compiled
// to WebAssembly, Go's wasm_exec.js, the SIMD kernel module, the JS shim
// with its types and package.json, and the demo. make web and the browser
// tests both build through it, so they test what ships.
package webbuild

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Options selects what to build.
type Options struct {
	Root  string // repository root
	Out   string // output folder (created)
	Model string // "default" or "mid"
	// NoSIMD leaves the SIMD kernel module out, so browsers use the Go kernels.
	NoSIMD bool
}

// Tags are the build tags of the wasm binary for a model.
func Tags(model string) string {
	tags := "nsfw_simd"
	if model == "mid" {
		tags += ",nsfw_mid"
	}
	return tags
}

// Build writes the web folder.
func Build(o Options) error {
	if o.Model != "" && o.Model != "default" && o.Model != "mid" {
		return fmt.Errorf("unknown model %q (want default or mid)", o.Model)
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return err
	}
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-tags", Tags(o.Model), "-o", filepath.Join(o.Out, "nsfw.wasm"), "./wasm")
	cmd.Dir = o.Root
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building the wasm engine: %v\n%s", err, out)
	}
	copies := map[string]string{
		filepath.Join(runtime.GOROOT(), "lib", "wasm", "wasm_exec.js"): "wasm_exec.js",
	}
	for _, f := range []string{"nsfw.js", "nsfw.d.ts", "package.json", "README.md"} {
		copies[filepath.Join(o.Root, "web", f)] = f
	}
	kernels := filepath.Join(o.Root, "wasm", "kernels", "kernels.wasm")
	if _, err := os.Stat(kernels); err == nil && !o.NoSIMD {
		copies[kernels] = "kernels.wasm"
	} else {
		os.Remove(filepath.Join(o.Out, "kernels.wasm"))
	}
	for src, dst := range copies {
		if err := copyFile(src, filepath.Join(o.Out, dst)); err != nil {
			return err
		}
	}
	for _, f := range []string{"prefilter.js", "prefilter.d.ts"} {
		if err := copyFile(filepath.Join(o.Root, "web", "prefilter", f), filepath.Join(o.Out, "prefilter", f)); err != nil {
			return err
		}
	}
	demo := filepath.Join(o.Out, "demo")
	if err := os.RemoveAll(demo); err != nil {
		return err
	}
	return CopyTree(filepath.Join(o.Root, "web", "demo"), demo)
}

// CopyTree copies the files under src into dst.
func CopyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if strings.HasSuffix(p, ".br") || strings.HasSuffix(p, ".gz") {
			return nil
		}
		return copyFile(p, filepath.Join(dst, rel))
	})
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}
