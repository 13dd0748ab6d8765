package proxy

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/moonchat/moonchat/pkg/moonshot"
)

// usageTracker follows the usage of a stream without keeping its text: Moonshot reports it in
// choices[i] of each choice's last chunk, and at the top level only when asked for.
type usageTracker struct {
	id        string
	created   int64
	top       *moonshot.Usage
	perChoice []*moonshot.Usage
}

// maxChoices bounds the choice indexes tracked (Moonshot allows n ≤ 5).
const maxChoices = 64

func (t *usageTracker) add(c *moonshot.ChatCompletionChunk) {
	if t.id == "" {
		t.id, t.created = c.ID, c.Created
	}
	if c.Usage != nil {
		u := *c.Usage
		t.top = &u
	}
	for i := range c.Choices {
		cc := &c.Choices[i]
		if cc.Usage == nil || cc.Index < 0 || cc.Index >= maxChoices {
			continue
		}
		for len(t.perChoice) <= cc.Index {
			t.perChoice = append(t.perChoice, nil)
		}
		u := *cc.Usage
		t.perChoice[cc.Index] = &u
	}
}

// total is the request's usage: the top-level report when there is one, else the choices'
// reports combined (the prompt counted once), nil when nothing was reported.
func (t *usageTracker) total() *moonshot.Usage {
	return moonshot.CombineUsage(t.top, t.perChoice)
}

var modelKey = []byte(`"model":"`)

// rewriteModel puts the client's model name in place of the upstream's in a chunk or answer, so
// a client of an alias ("gpt-4o" served by kimi-k2.6) sees the name it asked for; the real
// model is in the X-Moonchat-Upstream-Model header.
//
// Moonshot writes compact JSON with "model" near the start, so the fast path replaces the first
// `"model":"…"`. That byte sequence cannot come from inside a JSON string, where every quote is
// escaped, and no object nested in a chunk has a "model" key. Anything else is decoded and
// encoded again. scratch, when given, is reused for the result.
func (g *group) rewriteModel(data []byte, scratch *[]byte) []byte {
	if i := bytes.Index(data, modelKey); i >= 0 {
		start := i + len(modelKey)
		if end := bytes.IndexByte(data[start:], '"'); end >= 0 && bytes.IndexByte(data[start:start+end], '\\') < 0 {
			var out []byte
			if scratch != nil {
				out = (*scratch)[:0]
			}
			out = append(out, data[:i]...)
			out = append(out, g.modelField...)
			out = append(out, data[start+end+1:]...)
			if scratch != nil {
				*scratch = out
			}
			return out
		}
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(data, &obj) != nil {
		return data
	}
	if _, ok := obj["model"]; !ok {
		return data
	}
	obj["model"] = g.modelField[len(`"model":`):]
	out, err := json.Marshal(obj)
	if err != nil {
		return data
	}
	return out
}

// AdjustmentsHeader encodes adjustments for the X-Moonchat-Adjustments header: each one's
// text (as the CLI prints it, with → written as -> and – as -), separated by "; ". Bytes that
// a header cannot carry, and '%' and ';', are percent-encoded, so splitting on "; " and
// percent-decoding each part gives the texts back.
func AdjustmentsHeader(adj []moonshot.Adjustment) string {
	var b strings.Builder
	for i, a := range adj {
		if i > 0 {
			b.WriteString("; ")
		}
		s := headerText.Replace(a.String())
		for j := 0; j < len(s); j++ {
			c := s[j]
			if c < 0x20 || c >= 0x7f || c == '%' || c == ';' {
				b.WriteByte('%')
				b.WriteByte("0123456789ABCDEF"[c>>4])
				b.WriteByte("0123456789ABCDEF"[c&15])
				continue
			}
			b.WriteByte(c)
		}
	}
	return b.String()
}

var headerText = strings.NewReplacer("→", "->", "–", "-")
