package cmd

import (
	"strings"
	"testing"
)

// Tests of issue 15's official tools: `--tool URI` runs the model's calls through Moonshot's
// formula endpoint until it answers, end to end against the emulator (whose default model
// calls moonshot/date:latest's date when it is offered).

func TestOfficialToolLoop(t *testing.T) {
	h := newHarness(t)
	r := h.run("chat", "--tool", "moonshot/date:latest", "--format", "json", "what day is it")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	out := decodeObject(t, r.stdout)
	if !strings.Contains(out["content"].(string), "The tool said: 2026-01-01T00:00:01Z") {
		t.Fatalf("content %q", out["content"])
	}
	results, _ := out["tool_results"].([]any)
	if len(results) != 1 {
		t.Fatalf("tool_results %v", out["tool_results"])
	}
	res := results[0].(map[string]any)
	if res["name"] != "date" || res["failed"] != false || !strings.HasPrefix(res["content"].(string), "2026-01-01T00:00:01Z") {
		t.Fatalf("tool result %v", res)
	}
	if n := h.requestsTo("GET", "/v1/formulas/moonshot/date:latest/tools"); n != 1 {
		t.Fatalf("%d declaration fetches", n)
	}
	if n := h.requestsTo("POST", "/v1/formulas/moonshot/date:latest/fibers"); n != 1 {
		t.Fatalf("%d fibers", n)
	}
	bodies := h.chatBodies()
	if len(bodies) != 2 {
		t.Fatalf("%d chat requests, want the question and the one with the result", len(bodies))
	}
	msgs := messagesOf(bodies[1])
	last := msgs[len(msgs)-1]
	if last["role"] != "tool" || last["name"] != "date" || !strings.HasPrefix(last["content"].(string), "2026-01-01") {
		t.Fatalf("second request ends with %v", last)
	}
	// kimi-k2.6 thinks: its reasoning of the tool-call turn is sent back with the turn, as
	// Moonshot requires, so no fix had to make one up.
	if call := msgs[len(msgs)-2]; call["role"] != "assistant" || call["reasoning_content"] == "" || call["reasoning_content"] == nil {
		t.Fatalf("tool-call turn %v", call)
	}
	if strings.Contains(r.stderr, "reasoning_content set to") {
		t.Fatalf("stderr %q", r.stderr)
	}
	if !strings.Contains(r.stderr, "date {} → 36 B, ") {
		t.Fatalf("no tool line on stderr: %q", r.stderr)
	}

	// Continued, the conversation replays the call and its result: the transcript is complete.
	r = h.run("chat", "-c", "and tomorrow?")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	bodies = h.chatBodies()
	if len(bodies) != 3 {
		t.Fatalf("%d chat requests; the continuation (no --tool) asks once", len(bodies))
	}
	msgs = messagesOf(bodies[2])
	var roles []string
	for _, m := range msgs {
		roles = append(roles, m["role"].(string))
	}
	if got := strings.Join(roles, ","); got != "user,assistant,tool,assistant,user" {
		t.Fatalf("continuation sends %s", got)
	}
	if c := msgs[1]; c["reasoning_content"] == nil || len(c["tool_calls"].([]any)) != 1 {
		t.Fatalf("replayed tool-call turn %v", c)
	}
}

func TestOfficialToolEventsInJSONL(t *testing.T) {
	h := newHarness(t)
	r := h.run("chat", "--tool", "moonshot/date:latest", "--format", "jsonl", "what day is it")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var types []string
	for _, ev := range decodeLines(t, r.stdout) {
		if ty := ev["type"].(string); ty == "tool_call" || ty == "tool_result" || ty == "done" {
			types = append(types, ty)
			if ty == "tool_result" && (ev["name"] != "date" || ev["failed"] != false) {
				t.Fatalf("tool_result %v", ev)
			}
		}
	}
	if got := strings.Join(types, ","); got != "tool_call,tool_result,done" {
		t.Fatalf("events %s", got)
	}
}

func TestOfficialToolErrors(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"--tool", "moonshot/nope:latest", "x"}, 2, "Moonshot has no such official tool"},
		{[]string{"--tool", "not a uri", "x"}, 2, "--tool not a uri"},
		{[]string{"--tool", "moonshot/date:latest", "--max-steps", "0", "x"}, 2, "--max-steps must be 1 to 100"},
		{[]string{"--tool", "moonshot/date:latest", "-n", "2", "x"}, 2, "--tool works with one answer at a time"},
	} {
		r := h.run(append([]string{"chat"}, tc.args...)...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.says) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, r.code, r.stderr, tc.code, tc.says)
		}
	}
	if n := len(h.chatBodies()); n != 0 {
		t.Fatalf("%d chat requests sent for refused flags", n)
	}
}
