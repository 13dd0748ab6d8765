package emulator

import "unicode"

// Token costs of the emulator's tokenizer. They are not Moonshot's (which is
// not public); they only need to be deterministic, cheap, monotone in the
// text and roughly realistic (about 4 bytes of English per token, one token
// per CJK character), so context-limit and max_tokens behaviour can be tested.
const (
	tokensPerMessage = 4    // role and framing
	tokensPerImage   = 256  // an image part, whatever its size: base64 is never counted as text
	tokensPerVideo   = 1024 // a video part
	bytesPerToken    = 4    // within a run of ASCII letters and digits
)

// CountText returns the number of tokens in s: every run of ASCII letters and
// digits costs one token per started 4 bytes, every other non-space rune
// (punctuation, CJK, emoji) costs one, and white space is free. The count of
// a prefix never exceeds the count of the whole string.
func CountText(s string) int {
	var t tokenCounter
	for _, r := range s {
		t.add(r)
	}
	return t.n
}

// tokenCounter is CountText's state, shared with truncation so that both cut
// at exactly the same places.
type tokenCounter struct {
	n   int // tokens so far
	run int // length of the current ASCII alphanumeric run
}

// cost is what adding r would cost, without adding it.
func (t *tokenCounter) cost(r rune) int {
	switch {
	case isASCIIAlnum(r):
		if t.run%bytesPerToken == 0 {
			return 1
		}
		return 0
	case unicode.IsSpace(r):
		return 0
	default:
		return 1
	}
}

func (t *tokenCounter) add(r rune) {
	t.n += t.cost(r)
	if isASCIIAlnum(r) {
		t.run++
	} else {
		t.run = 0
	}
}

func isASCIIAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// truncateTokens returns the longest prefix of s, cut on a rune boundary, that
// costs at most budget tokens, and that cost.
func truncateTokens(s string, budget int) (string, int) {
	var t tokenCounter
	for i, r := range s {
		if t.n+t.cost(r) > budget {
			return s[:i], t.n
		}
		t.add(r)
	}
	return s, t.n
}

// CountTokens is the emulator's deterministic prompt tokenizer: the prompt
// tokens of a chat request and the answer of estimate-token-count.
func CountTokens(messages []Message) int {
	n := 0
	for _, m := range messages {
		n += tokensPerMessage + CountText(m.Name) + CountText(m.ReasoningContent)
		if len(m.Parts) > 0 {
			for _, p := range m.Parts {
				switch p.Type {
				case "image_url":
					n += tokensPerImage
				case "video_url":
					n += tokensPerVideo
				default:
					n += CountText(p.Text)
				}
			}
		} else {
			n += CountText(m.Content)
		}
		for _, c := range m.ToolCalls {
			n += CountText(c.Name) + CountText(c.Arguments)
		}
	}
	return n
}
