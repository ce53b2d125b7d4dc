// Package extbuild assembles the browser extension (make extension): the
// sources in web/extension, the engine from the web build (nsfw.js,
// nsfw.wasm, kernels.wasm, wasm_exec.js) under engine/, and generated
// icons, as an unpacked folder to load in Chromium and as a zip for a
// store. The zip is reproducible: sorted entries, fixed times. The browser
// tests build through it, so they test what ships.
package extbuild

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/nsfw-go/nsfw/internal/webbuild"
)

// Options selects what to build.
type Options struct {
	Root string // repository root
	Out  string // the unpacked extension folder (replaced)
	Zip  string // if set, the zip is written here too
	// Web is a folder webbuild already wrote; when empty, the engine is
	// built into a temporary folder, with Model ("default" or "mid").
	Web   string
	Model string
}

// engineFiles are the web build's files the extension ships, under engine/.
// kernels.wasm is optional: without it the engine uses its Go kernels.
var engineFiles = []string{"nsfw.js", "nsfw.wasm", "wasm_exec.js", "kernels.wasm"}

// sourceOnly are files of web/extension that are not part of the extension.
var sourceOnly = map[string]bool{"README.md": true}

// Build writes the unpacked extension, and the zip if asked.
func Build(o Options) error {
	if err := checkOut(o.Out); err != nil {
		return err
	}
	web := o.Web
	if web == "" {
		tmp, err := os.MkdirTemp("", "nsfw-extbuild-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		web = tmp
		if err := webbuild.Build(webbuild.Options{Root: o.Root, Out: web, Model: o.Model}); err != nil {
			return err
		}
	}
	if err := os.RemoveAll(o.Out); err != nil {
		return err
	}
	src := filepath.Join(o.Root, "web", "extension")
	if err := webbuild.CopyTree(src, o.Out); err != nil {
		return err
	}
	for name := range sourceOnly {
		os.Remove(filepath.Join(o.Out, name))
	}
	for _, name := range engineFiles {
		b, err := os.ReadFile(filepath.Join(web, name))
		if os.IsNotExist(err) && name == "kernels.wasm" {
			continue
		}
		if err != nil {
			return fmt.Errorf("the engine's %s: %w", name, err)
		}
		if err := writeFile(filepath.Join(o.Out, "engine", name), b); err != nil {
			return err
		}
	}
	for _, size := range IconSizes {
		if err := writeFile(filepath.Join(o.Out, "icons", fmt.Sprintf("%d.png", size)), Icon(size)); err != nil {
			return err
		}
	}
	if o.Zip != "" {
		return WriteZip(o.Out, o.Zip)
	}
	return nil
}

// checkOut refuses to replace a folder that holds anything but an earlier
// build, so a wrong -out cannot wipe a source tree.
func checkOut(out string) error {
	if out == "" {
		return fmt.Errorf("no output folder given")
	}
	entries, err := os.ReadDir(out)
	if os.IsNotExist(err) || (err == nil && len(entries) == 0) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(out, "manifest.json")); err != nil {
		return fmt.Errorf("%s is not empty and holds no manifest.json: not replacing it", out)
	}
	return nil
}

// zipTime is every entry's modification time, so that equal inputs give
// equal bytes.
var zipTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// WriteZip writes the files under dir into a zip at path, in sorted order,
// manifest.json at the zip's root.
func WriteZip(dir, path string) error {
	var names []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		names = append(names, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return err
	}
	slices.Sort(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			return err
		}
		method := zip.Deflate
		if strings.HasSuffix(name, ".png") {
			method = zip.Store // already compressed
		}
		h := &zip.FileHeader{Name: name, Method: method, Modified: zipTime}
		h.SetMode(0o644)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return writeFile(path, buf.Bytes())
}

func writeFile(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
