package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// apng9 writes a 9-frame APNG (224x224, 6 s a frame) whose frame 4 is the
// NSFW-scored fixture and the others the same photo, each marked with one
// distinct pixel.
func apng9(t *testing.T, path string) {
	t.Helper()
	load := func(name string) *image.NRGBA {
		b, err := os.ReadFile(fixtures + name)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		out := image.NewNRGBA(image.Rect(0, 0, 224, 224))
		sb := img.Bounds()
		for y := range 224 {
			for x := range 224 {
				out.Set(x, y, img.At(sb.Min.X+x*sb.Dx()/224, sb.Min.Y+y*sb.Dy()/224))
			}
		}
		return out
	}
	bad, safe := load("ascent-default-porn.png"), load("photo-coffee.png")
	chunk := func(typ string, body []byte) []byte {
		b := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
		b = append(append(b, typ...), body...)
		return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
	}
	idat := func(m image.Image) (ihdr, data []byte) {
		var b bytes.Buffer
		png.Encode(&b, m)
		p := b.Bytes()
		for pos := 8; pos+8 <= len(p); {
			n := int(binary.BigEndian.Uint32(p[pos:]))
			switch string(p[pos+4 : pos+8]) {
			case "IHDR":
				ihdr = p[pos+8 : pos+8+n]
			case "IDAT":
				data = append(data, p[pos+8:pos+8+n]...)
			}
			pos += 12 + n
		}
		return ihdr, data
	}
	ihdr, _ := idat(safe)
	out := append([]byte("\x89PNG\r\n\x1a\n"), chunk("IHDR", ihdr)...)
	out = append(out, chunk("acTL", []byte{0, 0, 0, 9, 0, 0, 0, 0})...)
	seq := uint32(0)
	for i := range 9 {
		f := bad
		if i != 4 {
			f = image.NewNRGBA(safe.Rect)
			copy(f.Pix, safe.Pix)
			f.Pix[4*i] = 255
		}
		fc := binary.BigEndian.AppendUint32(nil, seq)
		fc = append(fc, 0, 0, 0, 224, 0, 0, 0, 224, 0, 0, 0, 0, 0, 0, 0, 0, 0x17, 0x70, 0, 100, 0, 0)
		out = append(out, chunk("fcTL", fc)...)
		seq++
		_, d := idat(f)
		if i == 0 {
			out = append(out, chunk("IDAT", d)...)
			continue
		}
		out = append(out, chunk("fdAT", append(binary.BigEndian.AppendUint32(nil, seq), d...))...)
		seq++
	}
	out = append(out, chunk("IEND", nil)...)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestClassifyEveryFrame: sampling (the default) misses frame 4 of 9;
// --frames all finds it, says which frame, and exits 1.
func TestClassifyEveryFrame(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nine.png")
	apng9(t, path)
	var r record
	stdout, _, code := runCLI(t, "classify", "--json", "--quiet", path)
	if err := json.Unmarshal([]byte(stdout), &r); err != nil || code != exitOK || r.Verdict != "safe" || r.Frames != 8 {
		t.Fatalf("sampled: exit %d, %s", code, stdout)
	}
	stdout, _, code = runCLI(t, "classify", "--json", "--quiet", "--frames", "all", path)
	r = record{}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil || code != exitFlagged || r.Verdict != "nsfw" || r.Frame == nil || *r.Frame != 4 || r.FrameCount != 9 {
		t.Fatalf("--frames all: exit %d, %s", code, stdout)
	}
	stdout, _, _ = runCLI(t, "classify", "--quiet", "--frames", "all", path)
	if !strings.Contains(stdout, "nine.png (frame 4 of 9)") {
		t.Errorf("table: %s", stdout)
	}
	// Over the frame budget: refused with its own error kind.
	gif := []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff")
	for range 250 {
		gif = append(gif, 0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0)
	}
	long := filepath.Join(t.TempDir(), "long.gif")
	os.WriteFile(long, append(gif, 0x3b), 0o644)
	stdout, _, code = runCLI(t, "classify", "--json", "--quiet", "--frames", "all", long)
	if r = (record{}); json.Unmarshal([]byte(stdout), &r) != nil || code != exitErrors || r.ErrorKind != "too_many_frames" {
		t.Errorf("250 frames: exit %d, %s", code, stdout)
	}
	if _, _, code := runCLI(t, "classify", "--frames", "some", path); code != exitUsage {
		t.Errorf("--frames some: exit %d", code)
	}
}
