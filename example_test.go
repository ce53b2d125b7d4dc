package nsfw_test

import (
	"fmt"
	"image"
	_ "image/png"
	"log"
	"os"

	"github.com/nsfw-go/nsfw"
)

func decode(path string) image.Image {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		log.Fatal(err)
	}
	return img
}

func Example() {
	d, err := nsfw.Default() // the embedded MobileNetV2, Balanced policy
	if err != nil {
		log.Fatal(err)
	}
	r, err := d.Classify(decode("testdata/fixtures/photo-chelsea.png"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Verdict, r.Top())
	// Output: safe Neutral
}

func ExampleResult_Sorted() {
	d, err := nsfw.Default()
	if err != nil {
		log.Fatal(err)
	}
	r, err := d.Classify(decode("testdata/fixtures/ascent-default-hentai.png"))
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range r.Sorted()[:2] {
		fmt.Printf("%s %.2f\n", p.Class, p.Probability)
	}
	fmt.Println(r.Verdict)
	// Output:
	// Hentai 0.99
	// Porn 0.00
	// nsfw
}

func ExampleParsePolicy() {
	p, err := nsfw.ParsePolicy("balanced,sexy=0")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Porn, p.Hentai, p.Sexy, p.Sum, p)
	r := nsfw.Result{Probabilities: [nsfw.NumClasses]float32{0.05, 0, 0.05, 0, 0.9}}
	fmt.Println(p.Flags(&r), nsfw.Balanced.Flags(&r))
	// Output:
	// 0.5 0.5 0 0.7 porn=0.5,hentai=0.5,sexy=0,sum=0.7
	// false true
}

func ExampleDetector_ClassifyPixels() {
	d, err := nsfw.Default()
	if err != nil {
		log.Fatal(err)
	}
	// 2×2 RGBA pixels, as a canvas's ImageData holds them.
	pix := []byte{
		255, 255, 255, 255, 0, 0, 0, 255,
		0, 0, 0, 255, 255, 255, 255, 255,
	}
	r, err := d.ClassifyPixels(pix, 2, 2, 8, nsfw.RGBA)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Frames, r.Verdict)
	// Output: 1 safe
}

func ExampleLoadFile() {
	_, err := nsfw.LoadFile("testdata/fixtures/photo-coffee.png")
	fmt.Println(err)
	// Output: testdata/fixtures/photo-coffee.png: invalid model file: bad magic "\x89PNG\r\n\x1a\n": not an nsfw model file
}
