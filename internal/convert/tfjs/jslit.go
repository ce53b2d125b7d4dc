package tfjs

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// parseJSLiteral parses the JavaScript object literal at the start of src
// (as emitted by minifiers: unquoted keys, !0/!1 for booleans, .5 for 0.5)
// into the values encoding/json would produce: map[string]any, []any,
// string, float64, bool and nil. It is the subset nsfwjs's model.min.js
// bundles use; it never evaluates code. It returns the value and the number
// of bytes consumed.
func parseJSLiteral(src string) (any, int, error) {
	p := &jsParser{src: src}
	v, err := p.value(0)
	if err != nil {
		return nil, 0, err
	}
	return v, p.pos, nil
}

type jsParser struct {
	src string
	pos int
}

const maxDepth = 200

func (p *jsParser) errorf(format string, args ...any) error {
	return fmt.Errorf("js literal at byte %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *jsParser) skipSpace() {
	for p.pos < len(p.src) && strings.IndexByte(" \t\r\n", p.src[p.pos]) >= 0 {
		p.pos++
	}
}

func (p *jsParser) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, p.errorf("nested too deeply")
	}
	p.skipSpace()
	if p.pos >= len(p.src) {
		return nil, p.errorf("unexpected end of input")
	}
	switch c := p.src[p.pos]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"' || c == '\'':
		return p.string()
	case c == '!':
		// Minified booleans: !0 is true, !1 is false.
		if strings.HasPrefix(p.src[p.pos:], "!0") {
			p.pos += 2
			return true, nil
		}
		if strings.HasPrefix(p.src[p.pos:], "!1") {
			p.pos += 2
			return false, nil
		}
		return nil, p.errorf("unsupported expression")
	case c == '-' || c == '.' || c == '+' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		for _, kw := range []struct {
			word string
			val  any
		}{{"true", true}, {"false", false}, {"null", nil}, {"void 0", nil}} {
			if strings.HasPrefix(p.src[p.pos:], kw.word) {
				p.pos += len(kw.word)
				return kw.val, nil
			}
		}
		return nil, p.errorf("unexpected character %q", c)
	}
}

func (p *jsParser) object(depth int) (any, error) {
	p.pos++ // {
	obj := map[string]any{}
	for {
		p.skipSpace()
		if p.pos >= len(p.src) {
			return nil, p.errorf("unterminated object")
		}
		if p.src[p.pos] == '}' {
			p.pos++
			return obj, nil
		}
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != ':' {
			return nil, p.errorf("expected ':' after key %q", key)
		}
		p.pos++
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		obj[key] = v
		p.skipSpace()
		if p.pos < len(p.src) && p.src[p.pos] == ',' {
			p.pos++
		}
	}
}

func (p *jsParser) key() (string, error) {
	if c := p.src[p.pos]; c == '"' || c == '\'' {
		return p.string()
	}
	start := p.pos
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			p.pos++
			continue
		}
		break
	}
	if p.pos == start {
		return "", p.errorf("expected a key")
	}
	return p.src[start:p.pos], nil
}

func (p *jsParser) array(depth int) (any, error) {
	p.pos++ // [
	arr := []any{}
	for {
		p.skipSpace()
		if p.pos >= len(p.src) {
			return nil, p.errorf("unterminated array")
		}
		if p.src[p.pos] == ']' {
			p.pos++
			return arr, nil
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
		p.skipSpace()
		if p.pos < len(p.src) && p.src[p.pos] == ',' {
			p.pos++
		}
	}
}

func (p *jsParser) string() (string, error) {
	quote := p.src[p.pos]
	p.pos++
	var b strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == quote:
			p.pos++
			return b.String(), nil
		case c == '\\':
			if p.pos+1 >= len(p.src) {
				return "", p.errorf("unterminated escape")
			}
			e := p.src[p.pos+1]
			p.pos += 2
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'v':
				b.WriteByte('\v')
			case '0':
				b.WriteByte(0)
			case 'u':
				if p.pos+4 > len(p.src) {
					return "", p.errorf("short \\u escape")
				}
				r, err := strconv.ParseUint(p.src[p.pos:p.pos+4], 16, 32)
				if err != nil {
					return "", p.errorf("bad \\u escape")
				}
				p.pos += 4
				b.WriteRune(rune(r))
			case 'x':
				if p.pos+2 > len(p.src) {
					return "", p.errorf("short \\x escape")
				}
				r, err := strconv.ParseUint(p.src[p.pos:p.pos+2], 16, 32)
				if err != nil {
					return "", p.errorf("bad \\x escape")
				}
				p.pos += 2
				b.WriteRune(rune(r))
			default:
				b.WriteByte(e) // \" \' \\ \/ and identity escapes
			}
		default:
			r, size := utf8.DecodeRuneInString(p.src[p.pos:])
			b.WriteRune(r)
			p.pos += size
		}
	}
	return "", p.errorf("unterminated string")
}

func (p *jsParser) number() (any, error) {
	start := p.pos
	for p.pos < len(p.src) && strings.IndexByte("+-.0123456789eE", p.src[p.pos]) >= 0 {
		p.pos++
	}
	text := p.src[start:p.pos]
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return nil, p.errorf("bad number %q", text)
	}
	return f, nil
}
