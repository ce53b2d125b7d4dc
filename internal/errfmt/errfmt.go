// Package errfmt formats the error messages of the packages that are linked
// into the WebAssembly build. It implements the part of fmt those messages
// use (the verbs %d %s %q %v %x %g %w %T and %.Nf, with widths and zero
// padding) with a type switch instead of reflection, so that fmt and
// reflect, about 250 KB of wasm code and a slower start, stay out of the
// browser binary. A test compares it with fmt on every kind of value the
// engine formats.
package errfmt

import (
	"errors"
	"math"
	"strconv"
	"unicode/utf8"
)

// Sprintf is fmt.Sprintf for the verbs and types this package supports;
// anything else is written as %!verb(?) rather than guessed.
func Sprintf(format string, args ...any) string {
	b, _ := appendf(nil, format, args)
	return string(b)
}

// Errorf is fmt.Errorf: every %w operand is wrapped.
func Errorf(format string, args ...any) error {
	b, wrapped := appendf(nil, format, args)
	switch len(wrapped) {
	case 0:
		return errors.New(string(b))
	case 1:
		return &wrapError{msg: string(b), err: wrapped[0]}
	}
	return &wrapErrors{msg: string(b), errs: wrapped}
}

type wrapError struct {
	msg string
	err error
}

func (e *wrapError) Error() string { return e.msg }
func (e *wrapError) Unwrap() error { return e.err }

type wrapErrors struct {
	msg  string
	errs []error
}

func (e *wrapErrors) Error() string   { return e.msg }
func (e *wrapErrors) Unwrap() []error { return e.errs }

type spec struct {
	zero      bool
	width     int
	precision int // -1: none
	verb      byte
}

func appendf(b []byte, format string, args []any) ([]byte, []error) {
	var wrapped []error
	arg := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b = append(b, c)
			continue
		}
		i++
		if i >= len(format) {
			return append(b, "%!(NOVERB)"...), wrapped
		}
		if format[i] == '%' {
			b = append(b, '%')
			continue
		}
		s := spec{precision: -1}
		for ; i < len(format) && format[i] == '0'; i++ {
			s.zero = true
		}
		for ; i < len(format) && '0' <= format[i] && format[i] <= '9'; i++ {
			s.width = s.width*10 + int(format[i]-'0')
		}
		if i < len(format) && format[i] == '.' {
			s.precision = 0
			for i++; i < len(format) && '0' <= format[i] && format[i] <= '9'; i++ {
				s.precision = s.precision*10 + int(format[i]-'0')
			}
		}
		if i >= len(format) {
			return append(b, "%!(NOVERB)"...), wrapped
		}
		s.verb = format[i]
		if arg >= len(args) {
			b = append(b, "%!"...)
			b = append(b, s.verb)
			b = append(b, "(MISSING)"...)
			continue
		}
		v := args[arg]
		arg++
		if s.verb == 'w' {
			if err, ok := v.(error); ok {
				wrapped = append(wrapped, err)
			}
			s.verb = 'v'
		}
		start := len(b)
		b = appendValue(b, s, v)
		if n := utf8.RuneCount(b[start:]); n < s.width {
			pad := byte(' ')
			if s.zero {
				pad = '0'
			}
			field := append([]byte(nil), b[start:]...)
			b = b[:start]
			for ; n < s.width; n++ {
				b = append(b, pad)
			}
			b = append(b, field...)
		}
	}
	if arg < len(args) {
		b = append(b, "%!(EXTRA)"...)
	}
	return b, wrapped
}

func bad(b []byte, verb byte) []byte {
	return append(append(append(b, "%!"...), verb), "(?)"...)
}

func appendValue(b []byte, s spec, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "<nil>"...)
	case error:
		return appendString(b, s, x.Error())
	case interface{ String() string }:
		return appendString(b, s, x.String())
	case string:
		return appendString(b, s, x)
	case []byte:
		return appendString(b, s, string(x))
	case bool:
		return strconv.AppendBool(b, x)
	case int:
		return appendInt(b, s, int64(x))
	case int8:
		return appendInt(b, s, int64(x))
	case int16:
		return appendInt(b, s, int64(x))
	case int32:
		return appendInt(b, s, int64(x))
	case int64:
		return appendInt(b, s, x)
	case uint:
		return appendUint(b, s, uint64(x))
	case uint8:
		return appendUint(b, s, uint64(x))
	case uint16:
		return appendUint(b, s, uint64(x))
	case uint32:
		return appendUint(b, s, uint64(x))
	case uint64:
		return appendUint(b, s, x)
	case uintptr:
		return appendUint(b, s, uint64(x))
	case float32:
		return appendFloat(b, s, float64(x), 32)
	case float64:
		return appendFloat(b, s, x, 64)
	case []int:
		return appendList(b, len(x), func(b []byte, i int) []byte { return appendInt(b, spec{verb: 'v', precision: -1}, int64(x[i])) })
	case [2]int:
		return appendValue(b, s, x[:])
	case [3]int:
		return appendValue(b, s, x[:])
	case [4]int:
		return appendValue(b, s, x[:])
	case []uint32:
		return appendList(b, len(x), func(b []byte, i int) []byte { return strconv.AppendUint(b, uint64(x[i]), 10) })
	case []float32:
		return appendList(b, len(x), func(b []byte, i int) []byte { return appendFloat(b, spec{verb: 'v', precision: -1}, float64(x[i]), 32) })
	case []string:
		return appendList(b, len(x), func(b []byte, i int) []byte { return append(b, x[i]...) })
	case [5]string:
		return appendValue(b, s, x[:])
	}
	if s.verb == 'T' {
		return append(b, "?"...)
	}
	return bad(b, s.verb)
}

func appendList(b []byte, n int, elem func([]byte, int) []byte) []byte {
	b = append(b, '[')
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ' ')
		}
		b = elem(b, i)
	}
	return append(b, ']')
}

func appendString(b []byte, s spec, x string) []byte {
	switch s.verb {
	case 's', 'v':
		return append(b, x...)
	case 'q':
		return strconv.AppendQuote(b, x)
	case 'x':
		for i := 0; i < len(x); i++ {
			b = append(b, "0123456789abcdef"[x[i]>>4], "0123456789abcdef"[x[i]&15])
		}
		return b
	case 'd':
		// A named integer with a String method: fmt would print the number,
		// which needs reflection; its name is the readable fallback.
		return append(b, x...)
	}
	return bad(b, s.verb)
}

func appendInt(b []byte, s spec, x int64) []byte {
	switch s.verb {
	case 'd', 'v':
		return strconv.AppendInt(b, x, 10)
	case 'x':
		return strconv.AppendInt(b, x, 16)
	}
	return bad(b, s.verb)
}

func appendUint(b []byte, s spec, x uint64) []byte {
	switch s.verb {
	case 'd', 'v':
		return strconv.AppendUint(b, x, 10)
	case 'x':
		return strconv.AppendUint(b, x, 16)
	}
	return bad(b, s.verb)
}

func appendFloat(b []byte, s spec, x float64, bits int) []byte {
	switch s.verb {
	case 'v', 'g':
		if s.precision >= 0 {
			return strconv.AppendFloat(b, x, 'g', s.precision, bits)
		}
		// fmt's %v: shortest representation, exponent for large/small.
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return appendSpecial(b, x)
		}
		return strconv.AppendFloat(b, x, 'g', -1, bits)
	case 'f':
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return appendSpecial(b, x)
		}
		p := s.precision
		if p < 0 {
			p = 6
		}
		return strconv.AppendFloat(b, x, 'f', p, bits)
	}
	return bad(b, s.verb)
}

func appendSpecial(b []byte, x float64) []byte {
	switch {
	case math.IsNaN(x):
		return append(b, "NaN"...)
	case x > 0:
		return append(b, "+Inf"...)
	}
	return append(b, "-Inf"...)
}
