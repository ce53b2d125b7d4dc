package nsfw

import "github.com/nsfw-go/nsfw/internal/errfmt"

// Class is one of the five categories, in the models' output order.
type Class int

// The classes, in output order.
const (
	Drawing Class = iota // safe-for-work drawings and anime
	Hentai               // explicit drawings
	Neutral              // safe-for-work photos
	Porn                 // explicit photos
	Sexy                 // suggestive but not explicit
)

// NumClasses is the number of classes.
const NumClasses = 5

var classNames = [NumClasses]string{"Drawing", "Hentai", "Neutral", "Porn", "Sexy"}

// Classes lists every class in output order.
var Classes = [NumClasses]Class{Drawing, Hentai, Neutral, Porn, Sexy}

func (c Class) String() string {
	if c >= 0 && int(c) < NumClasses {
		return classNames[c]
	}
	return errfmt.Sprintf("Class(%d)", int(c))
}

// ParseClass parses a class name, case-insensitively.
func ParseClass(s string) (Class, error) {
	for i, n := range classNames {
		if equalFold(s, n) {
			return Class(i), nil
		}
	}
	return 0, errfmt.Errorf("unknown class %q (want one of %v)", s, classNames)
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// MarshalText encodes the class as its name.
func (c Class) MarshalText() ([]byte, error) {
	if c < 0 || int(c) >= NumClasses {
		return nil, errfmt.Errorf("invalid class %d", int(c))
	}
	return []byte(classNames[c]), nil
}

// UnmarshalText decodes a class name.
func (c *Class) UnmarshalText(b []byte) error {
	v, err := ParseClass(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}
