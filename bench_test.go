package nsfw

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/nsfw-go/nsfw/internal/kernels"
)

// BenchmarkModel times one inference on a 224×224 input, single-threaded,
// reporting ms/image and effective GMAC/s, for each model and kernel set.
func BenchmarkModel(b *testing.B) {
	input := make([]float32, 224*224*3)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range input {
		input[i] = r.Float32()
	}
	for _, m := range []struct {
		name string
		load func(...Option) (*Detector, error)
	}{{"default", Default}, {"mid", Mid}} {
		for _, k := range kernels.Implementations()[1:] {
			b.Run(fmt.Sprintf("%s/%s", m.name, k.Name), func(b *testing.B) {
				d, err := m.load(withKernels(k), WithConcurrency(1))
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				start := time.Now()
				for b.Loop() {
					if _, err := d.ClassifyInput(input); err != nil {
						b.Fatal(err)
					}
				}
				per := time.Since(start).Seconds() / float64(b.N)
				b.ReportMetric(per*1e3, "ms/image")
				b.ReportMetric(float64(d.Info().MACs)/per/1e9, "GMAC/s")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}
