package nsfw

import (
	"math"
	"strconv"
	"strings"

	"github.com/nsfw-go/nsfw/internal/errfmt"
)

// Policy decides when a result is NSFW. An image is flagged when any
// enabled rule fires: its Porn, Hentai or Sexy probability reaches that
// class's threshold, or their sum (the NSFW score) reaches Sum. A threshold
// of 0 disables its rule. Every product (CLI, browser shim, extension,
// upload middleware) uses this one type, and its JSON form is the same in
// Go and JavaScript.
type Policy struct {
	Porn   float32 `json:"porn"`
	Hentai float32 `json:"hentai"`
	Sexy   float32 `json:"sexy"`
	Sum    float32 `json:"sum"`
}

// The presets. Sexy is the class nsfwjs confuses most with Porn, and Hentai
// with Drawing, so the lenient preset ignores Sexy alone and the strict one
// catches mixtures through Sum.
var (
	Strict   = Policy{Porn: 0.3, Hentai: 0.3, Sexy: 0.5, Sum: 0.5}
	Balanced = Policy{Porn: 0.5, Hentai: 0.5, Sexy: 0.8, Sum: 0.7}
	Lenient  = Policy{Porn: 0.8, Hentai: 0.8, Sexy: 0, Sum: 0.9}
)

// Presets maps each preset's name to it.
var Presets = map[string]Policy{"strict": Strict, "balanced": Balanced, "lenient": Lenient}

// Validate reports thresholds outside [0, 1] and a policy that can never flag.
func (p Policy) Validate() error {
	for _, t := range []struct {
		name string
		v    float32
	}{{"porn", p.Porn}, {"hentai", p.Hentai}, {"sexy", p.Sexy}, {"sum", p.Sum}} {
		if math.IsNaN(float64(t.v)) || t.v < 0 || t.v > 1 {
			return errfmt.Errorf("policy: %s threshold %v is outside [0, 1]", t.name, t.v)
		}
	}
	if p == (Policy{}) {
		return errfmt.Errorf("policy: every threshold is 0, so nothing would ever be flagged")
	}
	return nil
}

// Flags reports whether r is NSFW under p.
func (p Policy) Flags(r *Result) bool {
	return fires(p.Porn, r.Probabilities[Porn]) ||
		fires(p.Hentai, r.Probabilities[Hentai]) ||
		fires(p.Sexy, r.Probabilities[Sexy]) ||
		fires(p.Sum, r.NSFWScore)
}

func fires(threshold, v float32) bool { return threshold > 0 && v >= threshold }

// Explain says which rules fire for r, e.g. "porn 0.93 ≥ 0.50"; empty if none.
func (p Policy) Explain(r *Result) string {
	var parts []string
	add := func(name string, t, v float32) {
		if fires(t, v) {
			parts = append(parts, errfmt.Sprintf("%s %.2f ≥ %.2f", name, v, t))
		}
	}
	add("porn", p.Porn, r.Probabilities[Porn])
	add("hentai", p.Hentai, r.Probabilities[Hentai])
	add("sexy", p.Sexy, r.Probabilities[Sexy])
	add("sum", p.Sum, r.NSFWScore)
	return strings.Join(parts, ", ")
}

// String is the form ParsePolicy reads: a preset name when p is one,
// else "porn=0.5,hentai=0.5,sexy=0.8,sum=0.7".
func (p Policy) String() string {
	for _, name := range []string{"strict", "balanced", "lenient"} {
		if Presets[name] == p {
			return name
		}
	}
	f := func(v float32) string { return strconv.FormatFloat(float64(v), 'g', -1, 32) }
	return "porn=" + f(p.Porn) + ",hentai=" + f(p.Hentai) + ",sexy=" + f(p.Sexy) + ",sum=" + f(p.Sum)
}

// ParsePolicy reads a preset name ("strict", "balanced", "lenient"), a list
// of thresholds ("porn=0.6,hentai=0.6,sum=0.8"; unnamed rules are off), or
// a preset with overrides ("balanced,sexy=0"). (For the JSON form, decode
// into a Policy with encoding/json and call Validate.)
func ParsePolicy(s string) (Policy, error) {
	s = strings.TrimSpace(s)
	var p Policy
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		key, val, hasVal := strings.Cut(part, "=")
		key = strings.ToLower(strings.TrimSpace(key))
		if !hasVal {
			preset, ok := Presets[key]
			if !ok || i != 0 {
				return Policy{}, errfmt.Errorf("policy: %q is not a preset (strict, balanced, lenient) or a name=value threshold", part)
			}
			p = preset
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(val), 32)
		if err != nil {
			return Policy{}, errfmt.Errorf("policy: %s: %q is not a number", key, val)
		}
		switch key {
		case "porn":
			p.Porn = float32(v)
		case "hentai":
			p.Hentai = float32(v)
		case "sexy":
			p.Sexy = float32(v)
		case "sum", "nsfw":
			p.Sum = float32(v)
		default:
			return Policy{}, errfmt.Errorf("policy: unknown threshold %q (want porn, hentai, sexy or sum)", key)
		}
	}
	return p, p.Validate()
}

// Verdict is a policy's decision.
type Verdict uint8

// The verdicts.
const (
	Safe Verdict = iota
	NSFW
)

func (v Verdict) String() string {
	if v == NSFW {
		return "nsfw"
	}
	return "safe"
}

// MarshalText encodes the verdict as "safe" or "nsfw".
func (v Verdict) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText decodes "safe" or "nsfw".
func (v *Verdict) UnmarshalText(b []byte) error {
	switch string(b) {
	case "safe":
		*v = Safe
	case "nsfw":
		*v = NSFW
	default:
		return errfmt.Errorf("verdict %q: want safe or nsfw", b)
	}
	return nil
}
