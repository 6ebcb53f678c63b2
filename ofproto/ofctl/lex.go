package ofctl

import (
	"fmt"
	"strings"
)

// SyntaxError is a parse error at a position of the input.
type SyntaxError struct {
	Col int    // 1-based column (byte offset + 1) of the offending text; 0 if unknown
	Msg string // what is wrong, and what was expected
}

func (e *SyntaxError) Error() string {
	if e.Col <= 0 {
		return e.Msg
	}
	return fmt.Sprintf("column %d: %s", e.Col, e.Msg)
}

// errAt returns a SyntaxError at byte offset pos.
func errAt(pos int, format string, args ...any) *SyntaxError {
	return &SyntaxError{Col: pos + 1, Msg: fmt.Sprintf(format, args...)}
}

// token is one key[=value] item of ovs-ofctl's syntax. Offsets are into
// the whole string being parsed.
type token struct {
	key, value     string
	keyPos, valPos int
	delim          byte // the byte that ended the key: '=', ':', '(' or 0
}

// hasValue reports whether the key was followed by a value delimiter.
func (t token) hasValue() bool { return t.delim == '=' || t.delim == ':' || t.delim == '(' }

// lexer splits a string into tokens the way ovs-ofctl does
// (ofputil_parse_key_value): items are separated by commas or white
// space; a key ends at one of ":=(" and its value at the next separator,
// or at the matching ")" for "key(value)"; parentheses nest inside values.
type lexer struct {
	s   string // the whole input
	pos int    // next byte to read
	end int    // stop here
}

func newLexer(s string, start, end int) *lexer { return &lexer{s: s, pos: start, end: end} }

const itemSeps = ", \t\r\n"

func isSep(c byte) bool { return strings.IndexByte(itemSeps, c) >= 0 }

// next returns the next token, or false at the end.
func (l *lexer) next() (token, bool) {
	for l.pos < l.end && isSep(l.s[l.pos]) {
		l.pos++
	}
	if l.pos >= l.end {
		return token{}, false
	}
	t := token{keyPos: l.pos}
	i := l.pos
	for i < l.end && strings.IndexByte(":=(, \t\r\n", l.s[i]) < 0 {
		i++
	}
	t.key = l.s[l.pos:i]
	if i >= l.end {
		l.pos = i
		t.valPos = i
		return t, true
	}
	t.delim = l.s[i]
	l.pos = i + 1
	var stops string
	switch t.delim {
	case ':', '=':
		stops = itemSeps
	case '(':
		stops = ")"
	default:
		t.delim = 0
		t.valPos = i
		return t, true
	}
	t.valPos = l.pos
	n := scanValue(l.s[l.pos:l.end], stops)
	// "key(x)->y" (as in set_field(x)->y) continues after the ")".
	if t.delim == '(' && l.pos+n+2 < l.end && l.s[l.pos+n] == ')' && l.s[l.pos+n+1] == '-' && l.s[l.pos+n+2] == '>' {
		n += scanValue(l.s[l.pos+n:l.end], itemSeps)
	}
	t.value = l.s[l.pos : l.pos+n]
	l.pos += n
	if l.pos < l.end {
		l.pos++ // the delimiter that ended the value
	}
	return t, true
}

// scanValue returns the length of the value at the start of s that ends at
// one of stops, skipping over balanced parentheses.
func scanValue(s string, stops string) int {
	n := 0
	for n < len(s) && strings.IndexByte(stops, s[n]) < 0 {
		if s[n] == '(' {
			level := 0
			for n < len(s) {
				switch s[n] {
				case '(':
					level++
				case ')':
					level--
				}
				n++
				if level == 0 {
					break
				}
			}
			continue
		}
		n++
	}
	return n
}

// parseUint parses an unsigned integer the way Open vSwitch's strtoull
// with base 0 does: 0x/0X for hexadecimal, a leading 0 for octal, decimal
// otherwise. bits bounds the value.
func parseUint(s string, bits int) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	base := uint64(10)
	digits := s
	switch {
	case len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X"):
		base, digits = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, digits = 8, s[1:]
	}
	var v uint64
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			return 0, false
		}
		if d >= base {
			return 0, false
		}
		if v > (^uint64(0)-d)/base {
			return 0, false
		}
		v = v*base + d
	}
	if bits < 64 && v>>uint(bits) != 0 {
		return 0, false
	}
	return v, true
}

// parseU64Signed is parseUint for 64-bit values that also accepts "-1"
// (all ones), as Open vSwitch's cookie syntax does.
func parseU64Signed(s string) (uint64, bool) {
	if strings.HasPrefix(s, "-") {
		v, ok := parseUint(s[1:], 64)
		if !ok {
			return 0, false
		}
		return -v, true
	}
	return parseUint(s, 64)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// suggest returns " (did you mean X?)" for the name in names closest to s,
// or "" when none is close enough to be a likely typo.
func suggest(s string, names []string) string {
	best, bestD := "", 1<<30
	for _, n := range names {
		if d := editDistance(strings.ToLower(s), n); d < bestD {
			best, bestD = n, d
		}
	}
	if best == "" || bestD > 2 || bestD > len(s)/2 {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}
