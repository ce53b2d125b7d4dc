package nsfw

import (
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
	// A stable insertion sort of five: the order of ties is class order.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Probability > out[j-1].Probability; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
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
