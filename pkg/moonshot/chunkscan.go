package moonshot

import (
	"unicode/utf8"
)

// scanChunk decodes the common shape of a stream event, a chunk of text for one or more
// choices, without encoding/json's reflection: the whole-process cost of a long piped answer is
// mostly this decode, one per event. It returns false, having written nothing that matters,
// for anything outside that shape (tool calls, usage, an unknown or differently-cased key, a
// null other than finish_reason's, a number that is not a plain integer, invalid UTF-8, a
// \u escape of a surrogate, malformed JSON); the caller then decodes with encoding/json, which
// stays the reference: on what scanChunk accepts, the two give the same chunk (the fuzz test
// holds them together).
//
// prev, when not nil, is the previous event: an id, object or model equal to its own reuses its
// string, so the thousands of events of one answer do not allocate the same three strings each.
func scanChunk(data []byte, ev *ChatCompletionChunk, prev *ChatCompletionChunk) bool {
	s := chunkScanner{b: data}
	var same ChatCompletionChunk
	if prev != nil {
		same = *prev
	}
	if !s.object(func(key []byte) bool {
		switch string(key) {
		case "id":
			return s.strLike(&ev.ID, same.ID)
		case "object":
			return s.strLike(&ev.Object, same.Object)
		case "model":
			return s.strLike(&ev.Model, same.Model)
		case "system_fingerprint":
			return s.str(&ev.SystemFingerprint)
		case "created":
			return s.int64(&ev.Created)
		case "choices":
			if ev.Choices != nil {
				return false // a second "choices": leave the merging rules to encoding/json
			}
			ev.Choices = make([]ChunkChoice, 0, 1)
			return s.array(func() bool {
				ev.Choices = append(ev.Choices, ChunkChoice{})
				return s.choice(&ev.Choices[len(ev.Choices)-1])
			})
		}
		return false
	}) {
		return false
	}
	s.space()
	return s.i == len(s.b)
}

type chunkScanner struct {
	b []byte
	i int
}

func (s *chunkScanner) choice(c *ChunkChoice) bool {
	return s.object(func(key []byte) bool {
		switch string(key) {
		case "index":
			var n int64
			if !s.int64(&n) || n != int64(int(n)) {
				return false
			}
			c.Index = int(n)
			return true
		case "finish_reason":
			if s.null() {
				c.FinishReason = nil
				return true
			}
			var r string
			if !s.str(&r) {
				return false
			}
			c.FinishReason = &r
			return true
		case "delta":
			return s.object(func(key []byte) bool {
				switch string(key) {
				case "role":
					return s.str(&c.Delta.Role)
				case "content":
					return s.str(&c.Delta.Content)
				case "reasoning_content":
					return s.str(&c.Delta.ReasoningContent)
				}
				return false
			})
		}
		return false
	})
}

func (s *chunkScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *chunkScanner) peek(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// object reads {"key": value, ...}, calling member with the scanner at each value.
func (s *chunkScanner) object(member func(key []byte) bool) bool {
	if !s.peek('{') {
		return false
	}
	if s.peek('}') {
		return true
	}
	for {
		s.space()
		key, ok := s.rawKey()
		if !ok || !s.peek(':') {
			return false
		}
		s.space()
		if !member(key) {
			return false
		}
		if s.peek(',') {
			continue
		}
		return s.peek('}')
	}
}

func (s *chunkScanner) array(elem func() bool) bool {
	if !s.peek('[') {
		return false
	}
	if s.peek(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if s.peek(',') {
			continue
		}
		return s.peek(']')
	}
}

// rawKey reads a key without escapes; a key with one is left to encoding/json.
func (s *chunkScanner) rawKey() ([]byte, bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	start := s.i + 1
	for j := start; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			s.i = j + 1
			return s.b[start:j], true
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

func (s *chunkScanner) null() bool {
	if len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "null" {
		s.i += 4
		return true
	}
	return false
}

// int64 reads an integer without fraction or exponent that fits.
func (s *chunkScanner) int64(out *int64) bool {
	j, neg := s.i, false
	if j < len(s.b) && s.b[j] == '-' {
		neg, j = true, j+1
	}
	start := j
	var n int64
	for ; j < len(s.b) && s.b[j] >= '0' && s.b[j] <= '9'; j++ {
		if n > (1<<63-1-9)/10 {
			return false
		}
		n = n*10 + int64(s.b[j]-'0')
	}
	if j == start || (s.b[start] == '0' && j-start > 1) {
		return false
	}
	if j < len(s.b) {
		if c := s.b[j]; c == '.' || c == 'e' || c == 'E' {
			return false
		}
	}
	if neg {
		n = -n
	}
	*out, s.i = n, j
	return true
}

// strLike is str, reusing like when the string is like's bytes without escapes.
func (s *chunkScanner) strLike(out *string, like string) bool {
	if n := len(like); like != "" && len(s.b)-s.i >= n+2 && s.b[s.i] == '"' && s.b[s.i+n+1] == '"' &&
		string(s.b[s.i+1:s.i+n+1]) == like && plainJSON(like) {
		*out, s.i = like, s.i+n+2
		return true
	}
	return s.str(out)
}

// plainJSON reports whether s, written between quotes as it is, is a JSON string that decodes
// to itself: no quote, backslash or control character (s is valid UTF-8, as decoded strings are).
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' || c < 0x20 {
			return false
		}
	}
	return true
}

// str reads a JSON string as encoding/json does.
func (s *chunkScanner) str(out *string) bool {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return false
	}
	start := s.i + 1
	j := start
	for ; j < len(s.b); j++ {
		c := s.b[j]
		if c == '"' {
			if !utf8.Valid(s.b[start:j]) {
				return false
			}
			*out, s.i = string(s.b[start:j]), j+1
			return true
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return false
		}
	}
	// Escapes: build the string.
	buf := make([]byte, 0, j-start+16)
	buf = append(buf, s.b[start:j]...)
	for j < len(s.b) {
		c := s.b[j]
		switch {
		case c == '"':
			if !utf8.Valid(buf) {
				return false
			}
			*out, s.i = string(buf), j+1
			return true
		case c < 0x20:
			return false
		case c != '\\':
			buf = append(buf, c)
			j++
			continue
		}
		if j+1 >= len(s.b) {
			return false
		}
		switch e := s.b[j+1]; e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			if j+6 > len(s.b) {
				return false
			}
			var r rune
			for _, h := range s.b[j+2 : j+6] {
				switch {
				case h >= '0' && h <= '9':
					r = r<<4 | rune(h-'0')
				case h >= 'a' && h <= 'f':
					r = r<<4 | rune(h-'a'+10)
				case h >= 'A' && h <= 'F':
					r = r<<4 | rune(h-'A'+10)
				default:
					return false
				}
			}
			if r >= 0xD800 && r < 0xE000 {
				return false // surrogates: encoding/json's pairing and replacement rules apply
			}
			buf = utf8.AppendRune(buf, r)
			j += 6
			continue
		default:
			return false
		}
		j += 2
	}
	return false
}
