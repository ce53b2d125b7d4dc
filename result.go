package nsfw

import (
	"slices"
	"time"
)

// Result is one classification.
type Result struct {
	// Probabilities are indexed by Class and sum to 1.
	Probabilities [NumClasses]float32
	// NSFWScore is Porn + Hentai + Sexy.
	NSFWScore float32
	// Verdict is the detector's policy applied to the probabilities.
	Verdict Verdict
	// Frame is the index of the animation frame reported (the one with the
	// highest NSFW score) and Frames how many frames were classified; 0 and
	// 1 for still images.
	Frame, Frames int
	// Elapsed is the time spent preprocessing and running the model.
	Elapsed time.Duration
}

// Prediction is one class with its probability.
type Prediction struct {
	Class       Class   `json:"class"`
	Probability float32 `json:"probability"`
}

// Sorted returns the classes from most to least probable.
func (r *Result) Sorted() []Prediction {
	out := make([]Prediction, NumClasses)
	for i, p := range r.Probabilities {
		out[i] = Prediction{Class(i), p}
	}
	slices.SortStableFunc(out, func(a, b Prediction) int {
		switch {
		case a.Probability > b.Probability:
			return -1
		case a.Probability < b.Probability:
			return 1
		}
		return 0
	})
	return out
}

// Top is the most probable class.
func (r *Result) Top() Class {
	best := Class(0)
	for i, p := range r.Probabilities {
		if p > r.Probabilities[best] {
			best = Class(i)
		}
	}
	return best
}

// NSFW reports whether the verdict is NSFW.
func (r *Result) NSFW() bool { return r.Verdict == NSFW }

func (r *Result) finish(p Policy) {
	r.NSFWScore = r.Probabilities[Porn] + r.Probabilities[Hentai] + r.Probabilities[Sexy]
	r.Verdict = Safe
	if p.Flags(r) {
		r.Verdict = NSFW
	}
}
