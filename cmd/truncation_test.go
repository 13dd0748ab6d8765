package cmd

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/pkg/emulator"
)

// TestTruncatedAnswerExits6 is examples/ci.sh's case: an answer cut at the token limit is
// printed and saved, one warning reaches stderr even with -q, and every format exits 6.
func TestTruncatedAnswerExits6(t *testing.T) {
	const warning = "moonchat: answer truncated at the token limit (12 tokens)"
	for _, format := range []string{"text", "json", "jsonl"} {
		t.Run(format, func(t *testing.T) {
			h := newHarness(t)
			h.srv.SetReply(func(*emulator.ChatRequest) emulator.Reply { return emulator.Reply{Content: longAnswer} })
			r := h.run("chat", "-m", "kimi-k2.6", "--no-thinking", "--max-tokens", "12", "-q", "--format", format, "Tell a story")
			if r.code != 6 {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			if strings.Count(r.stderr, warning) != 1 || strings.Count(r.stderr, "\n") != 2 || !strings.Contains(r.stderr, "hint: raise --max-tokens") {
				t.Errorf("stderr %q", r.stderr)
			}
			switch format {
			case "text":
				if r.stdout == "" || !strings.HasPrefix(longAnswer, strings.TrimSuffix(r.stdout, "\n")) {
					t.Errorf("the partial answer was not printed: %q", r.stdout)
				}
			case "json":
				out := decodeObject(t, r.stdout)
				e, _ := out["error"].(map[string]any)
				if out["finish_reason"] != "length" || out["content"] == "" || e["type"] != "truncated" || e["exit_code"] != 6.0 {
					t.Errorf("json %v", out)
				}
			case "jsonl":
				lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
				var last map[string]any
				if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
					t.Fatal(err)
				}
				if last["type"] != "error" || last["exit_code"] != 6.0 || !strings.Contains(r.stdout, `"type":"delta"`) {
					t.Errorf("jsonl ends with %v", last)
				}
			}
			// Saved, marked cut short, not as an interrupted or broken stream.
			id, _, _ := strings.Cut(h.run("log", "list").stdout, "\t")
			r = h.run("history", "show", "--json", id)
			var conv struct {
				Messages []map[string]any `json:"messages"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &conv); err != nil || len(conv.Messages) != 2 {
				t.Fatalf("history show: %v %+v", err, r)
			}
			if a := conv.Messages[1]; a["finish_reason"] != "length" || a["incomplete"] != false || a["interrupted"] != false || a["content"] == "" {
				t.Errorf("saved answer %v", a)
			}
		})
	}
}

// TestContinuedAnswerThatEndsIsComplete: --max-continues rounds that finish the answer exit 0;
// rounds that run out exit 6.
func TestContinuedAnswerThatEndsIsComplete(t *testing.T) {
	h := newHarness(t)
	h.srv.SetReply(func(*emulator.ChatRequest) emulator.Reply { return emulator.Reply{Content: longAnswer} })
	if r := h.run("chat", "-m", "kimi-k2.6", "--no-thinking", "--max-tokens", "12", "--max-continues", "20", "-q", "Tell a story"); r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d stderr %q", r.code, r.stderr)
	}
	if r := h.run("chat", "-m", "kimi-k2.6", "--no-thinking", "--max-tokens", "12", "--max-continues", "1", "-q", "Tell a story"); r.code != 6 {
		t.Fatalf("exit %d stderr %q", r.code, r.stderr)
	}
}

// TestReasoningUsedTheWholeBudget: length with no answer says so plainly and suggests a larger
// --max-tokens or a lower --reasoning-effort.
func TestReasoningUsedTheWholeBudget(t *testing.T) {
	h := newHarness(t)
	h.srv.SetReply(func(*emulator.ChatRequest) emulator.Reply {
		return emulator.Reply{Reasoning: strings.Repeat("Let me think about this more. ", 50), Content: "42"}
	})
	r := h.run("chat", "-m", "kimi-k3", "--max-tokens", "20", "What is the answer?")
	if r.code != 6 {
		t.Fatalf("exit %d stderr %q", r.code, r.stderr)
	}
	r.saysAll(t,
		"moonchat: no answer: kimi-k3 spent its whole output budget on reasoning and stopped at the token limit (20 tokens) before writing one",
		"hint: raise --max-tokens (e.g. --max-tokens 16000); reasoning and answer share one budget, or lower --reasoning-effort",
	)
}

// TestOutputBudgetField: the limit goes in max_completion_tokens where the family documents it,
// in max_tokens for the older models; without --max-tokens, kimi-k3.1-pro (server default
// unknown) gets its family's budget, kimi-k2.6 (documented 32,768) is left to the server.
func TestOutputBudgetField(t *testing.T) {
	h := newHarness(t)
	for _, tt := range []struct {
		args      []string
		field     string
		value     float64
		absentToo string
	}{
		{[]string{"-m", "kimi-k2.6", "--max-tokens", "500"}, "max_completion_tokens", 500, "max_tokens"},
		{[]string{"-m", "kimi-k3", "--max-tokens", "500"}, "max_completion_tokens", 500, "max_tokens"},
		{[]string{"-m", "kimi-k2-turbo-preview", "--max-tokens", "500"}, "max_tokens", 500, "max_completion_tokens"},
		{[]string{"-m", "kimi-k3.1-pro"}, "max_completion_tokens", 131072, "max_tokens"},
		{[]string{"-m", "kimi-k2.6"}, "", 0, "max_completion_tokens"},
		{[]string{"-m", "kimi-k3"}, "", 0, "max_completion_tokens"},
	} {
		h.srv.Reset()
		r := h.run(append(append([]string{"chat"}, tt.args...), "hi")...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d %s", tt.args, r.code, r.stderr)
		}
		body := h.chatBodies()[0]
		if tt.field != "" && body[tt.field] != tt.value {
			t.Errorf("%v: %s = %v", tt.args, tt.field, body[tt.field])
		}
		if _, ok := body[tt.absentToo]; ok || (tt.field == "" && body["max_tokens"] != nil) {
			t.Errorf("%v: body %v", tt.args, body)
		}
		if strings.Contains(r.stderr, "max_") {
			t.Errorf("%v: a notice about the limit field: %q", tt.args, r.stderr)
		}
	}
}
