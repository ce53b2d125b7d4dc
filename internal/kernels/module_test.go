// Static checks that start wat2wasm, which a test compiled to wasm cannot:
// they run natively only (make test-go), not once more per wasm run.

//go:build !(js && wasm)

package kernels

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The SIMD128 kernel module is built from hand-written WAT by wat2wasm and
// committed, so that building the product needs no wabt. These tests keep
// the committed binary, its source and the Go declarations in step; they
// run natively, where go test can run wat2wasm.

const (
	kernelsWAT  = "../../wasm/kernels/kernels.wat"
	kernelsWASM = "../../wasm/kernels/kernels.wasm"
	simdDecls   = "simd_wasm.go"
)

//go:generate wat2wasm ../../wasm/kernels/kernels.wat -o ../../wasm/kernels/kernels.wasm

// TestKernelModuleMatchesSource rebuilds kernels.wasm from kernels.wat and
// requires the committed binary to be byte-identical.
func TestKernelModuleMatchesSource(t *testing.T) {
	tool, err := exec.LookPath("wat2wasm")
	if err != nil {
		t.Skip("wat2wasm is not installed, so the committed wasm/kernels/kernels.wasm was not checked against kernels.wat: " +
			"install wabt (make test does, as root: build/ensure-wabt.sh; or sudo apt-get install wabt)")
	}
	out := filepath.Join(t.TempDir(), "kernels.wasm")
	if msg, err := exec.Command(tool, kernelsWAT, "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm: %v\n%s", err, msg)
	}
	built, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(kernelsWASM)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(built, committed) {
		version, _ := exec.Command(tool, "--version").Output()
		t.Fatalf("wasm/kernels/kernels.wasm is stale: rebuild it with `go generate ./internal/kernels` "+
			"(built %d bytes with wat2wasm %s, committed %d)", len(built), strings.TrimSpace(string(version)), len(committed))
	}
}

// TestKernelImportsMatchExports checks every //go:wasmimport nsfw_kernels
// declaration against the type of the export it names in kernels.wasm. JS
// trampolines forward any arguments, so a mismatch would not fail at link
// time: a missing argument would arrive as 0.
func TestKernelImportsMatchExports(t *testing.T) {
	wasm, err := os.ReadFile(kernelsWASM)
	if err != nil {
		t.Fatal(err)
	}
	exports, err := wasmFuncExports(wasm)
	if err != nil {
		t.Fatalf("kernels.wasm: %v", err)
	}
	imports := goWasmImports(t, simdDecls, "nsfw_kernels")
	if len(imports) == 0 {
		t.Fatalf("no //go:wasmimport nsfw_kernels declarations in %s", simdDecls)
	}
	for name, sig := range imports {
		got, ok := exports[name]
		if !ok {
			t.Errorf("kernels.wasm does not export %q, which %s imports", name, simdDecls)
			continue
		}
		if got != sig {
			t.Errorf("%s: Go declares %s, kernels.wasm exports %s", name, sig, got)
		}
	}
	if _, ok := imports["version"]; !ok {
		t.Errorf("%s must import version, the host's SIMD switch", simdDecls)
	}
}

// goWasmImports returns the wasm signature, e.g. "(i32 i32 f32) -> ()", of
// each function in file declared with //go:wasmimport module name.
func goWasmImports(t *testing.T, file, module string) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	valType := func(e ast.Expr) string {
		switch fmt.Sprint(e) {
		case "&{unsafe Pointer}", "int32", "uint32":
			return "i32"
		case "int64", "uint64":
			return "i64"
		case "float32":
			return "f32"
		case "float64":
			return "f64"
		}
		t.Fatalf("%s: no wasm type for Go type %v", file, e)
		return ""
	}
	sigs := map[string]string{}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Doc == nil {
			continue
		}
		for _, c := range fd.Doc.List {
			fields := strings.Fields(c.Text)
			if len(fields) != 3 || fields[0] != "//go:wasmimport" || fields[1] != module {
				continue
			}
			var params, results []string
			for _, p := range fd.Type.Params.List {
				for range max(1, len(p.Names)) {
					params = append(params, valType(p.Type))
				}
			}
			if fd.Type.Results != nil {
				for _, r := range fd.Type.Results.List {
					results = append(results, valType(r.Type))
				}
			}
			sigs[fields[2]] = fmt.Sprintf("(%s) -> (%s)", strings.Join(params, " "), strings.Join(results, " "))
		}
	}
	return sigs
}

// wasmFuncExports decodes just enough of a wasm binary (type, import,
// function and export sections) to return the signature of each exported
// function.
func wasmFuncExports(b []byte) (map[string]string, error) {
	if len(b) < 8 || string(b[:4]) != "\x00asm" || binary.LittleEndian.Uint32(b[4:8]) != 1 {
		return nil, errors.New("not a wasm 1 binary")
	}
	r := &wasmReader{b: b[8:]}
	var types []string
	var funcTypes []uint32 // type index of each function, imports first
	exports := map[string]string{}
	exportIdx := map[string]uint32{}
	for len(r.b) > 0 && r.err == nil {
		id := r.byte()
		sec := &wasmReader{b: r.bytes(r.u32())}
		switch id {
		case 1: // type
			for range sec.u32() {
				if sec.byte() != 0x60 {
					return nil, errors.New("bad function type")
				}
				params := sec.valTypes()
				results := sec.valTypes()
				types = append(types, fmt.Sprintf("(%s) -> (%s)", params, results))
			}
		case 2: // import
			for range sec.u32() {
				sec.bytes(sec.u32()) // module
				sec.bytes(sec.u32()) // name
				switch kind := sec.byte(); kind {
				case 0:
					funcTypes = append(funcTypes, sec.u32())
				case 1: // table: reftype, limits
					sec.byte()
					sec.limits()
				case 2:
					sec.limits()
				case 3:
					sec.byte()
					sec.byte()
				default:
					return nil, fmt.Errorf("import kind %d", kind)
				}
			}
		case 3: // function
			for range sec.u32() {
				funcTypes = append(funcTypes, sec.u32())
			}
		case 7: // export
			for range sec.u32() {
				name := string(sec.bytes(sec.u32()))
				kind, idx := sec.byte(), sec.u32()
				if kind == 0 {
					exportIdx[name] = idx
				}
			}
		}
		if sec.err != nil {
			return nil, fmt.Errorf("section %d: %w", id, sec.err)
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	for name, idx := range exportIdx {
		if int(idx) >= len(funcTypes) || int(funcTypes[idx]) >= len(types) {
			return nil, fmt.Errorf("export %q: bad function index", name)
		}
		exports[name] = types[funcTypes[idx]]
	}
	return exports, nil
}

type wasmReader struct {
	b   []byte
	err error
}

func (r *wasmReader) byte() byte {
	if len(r.b) == 0 {
		r.err = errors.New("unexpected end")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *wasmReader) u32() uint32 {
	var v uint32
	for shift := 0; shift < 35; shift += 7 {
		c := r.byte()
		v |= uint32(c&0x7f) << shift
		if c < 0x80 {
			return v
		}
	}
	r.err = errors.New("bad LEB128")
	return 0
}

func (r *wasmReader) bytes(n uint32) []byte {
	if uint32(len(r.b)) < n {
		r.err = errors.New("unexpected end")
		r.b = nil
		return nil
	}
	s := r.b[:n]
	r.b = r.b[n:]
	return s
}

func (r *wasmReader) limits() {
	if r.byte()&1 != 0 {
		r.u32()
	}
	r.u32()
}

func (r *wasmReader) valTypes() string {
	var s []string
	for range r.u32() {
		switch t := r.byte(); t {
		case 0x7f:
			s = append(s, "i32")
		case 0x7e:
			s = append(s, "i64")
		case 0x7d:
			s = append(s, "f32")
		case 0x7c:
			s = append(s, "f64")
		case 0x7b:
			s = append(s, "v128")
		default:
			s = append(s, fmt.Sprintf("0x%x", t))
		}
	}
	return strings.Join(s, " ")
}
