package cmd

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/pkg/emulator"
)

// Tests of issue 6: Moonshot's own features in `moonchat chat`, end to end against the emulator.

// writeFile puts data in a temporary file and returns its path.
func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// tinyDocx is a minimal Word document with two paragraphs.
func tinyDocx(t *testing.T, paragraphs ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("word/document.xml")
	if err != nil {
		t.Fatal(err)
	}
	doc := `<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>`
	for _, p := range paragraphs {
		doc += "<w:p><w:r><w:t>" + p + "</w:t></w:r></w:p>"
	}
	doc += "</w:body></w:document>"
	if _, err := w.Write([]byte(doc)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tinyPDF is a one-page PDF whose only content stream shows text. It is plain ASCII, so only
// its signature tells it from a text file.
func tinyPDF(text string) []byte {
	stream := "BT /F1 12 Tf 72 712 Td (" + text + ") Tj ET"
	return []byte("%PDF-1.4\n1 0 obj\n<< /Length " + itoa(len(stream)) + " >>\nstream\n" + stream +
		"\nendstream\nendobj\ntrailer\n<< >>\n%%EOF\n")
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// requestsTo counts the emulator's requests by method and path.
func (h *harness) requestsTo(method, path string) int {
	n := 0
	for _, r := range h.srv.Requests() {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

func messagesOf(body map[string]any) []map[string]any {
	var out []map[string]any
	for _, m := range body["messages"].([]any) {
		out = append(out, m.(map[string]any))
	}
	return out
}

func TestDocumentUploadedOnceThenCached(t *testing.T) {
	h := newHarness(t)
	doc := writeFile(t, "report.docx", tinyDocx(t, "Revenue rose 12%", "Costs fell"))
	for i := range 2 {
		r := h.run("chat", "-m", "kimi-k2-turbo-preview", "-f", doc, "Summarize the report")
		if r.code != 0 {
			t.Fatalf("run %d: exit %d: %s", i, r.code, r.stderr)
		}
		if uploaded := strings.Contains(r.stderr, "uploaded"); uploaded != (i == 0) {
			t.Fatalf("run %d: stderr %q", i, r.stderr)
		}
	}
	if n := h.requestsTo("POST", "/v1/files"); n != 1 {
		t.Fatalf("%d uploads, want 1 (the second run must hit the cache)", n)
	}
	bodies := h.chatBodies()
	for i, body := range bodies {
		msgs := messagesOf(body)
		if len(msgs) != 2 || msgs[0]["role"] != "system" || msgs[1]["role"] != "user" || msgs[1]["content"] != "Summarize the report" {
			t.Fatalf("request %d messages %v", i, msgs)
		}
		// The system message is the content endpoint's answer, verbatim, as Moonshot's guide does.
		var extracted map[string]any
		if err := json.Unmarshal([]byte(msgs[0]["content"].(string)), &extracted); err != nil {
			t.Fatalf("system message is not the extraction: %v", err)
		}
		if extracted["content"] != "Revenue rose 12%\nCosts fell" || extracted["filename"] != "report.docx" {
			t.Fatalf("extraction %v", extracted)
		}
	}
	cache := filepath.Join(os.Getenv("XDG_CACHE_HOME"), "moonchat", "files.json")
	st, err := os.Stat(cache)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("cache %v %v", st, err)
	}
}

func TestPDFIsExtractedNotInlined(t *testing.T) {
	h := newHarness(t)
	pdf := writeFile(t, "paper.pdf", tinyPDF("Kimi reads PDFs"))
	r := h.run("chat", "-m", "kimi-k2-turbo-preview", "-f", pdf, "What does it say?")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	msgs := messagesOf(h.chatBodies()[0])
	var extracted map[string]any
	if err := json.Unmarshal([]byte(msgs[0]["content"].(string)), &extracted); err != nil || extracted["content"] != "Kimi reads PDFs" {
		t.Fatalf("system message %q: %v", msgs[0]["content"], err)
	}
	if strings.Contains(msgs[1]["content"].(string), "%PDF") {
		t.Fatal("the PDF was inlined as text")
	}
}

func TestKeepFilesFalseDeletesAfterUse(t *testing.T) {
	h := newHarness(t)
	doc := writeFile(t, "a.docx", tinyDocx(t, "secret plan"))
	r := h.run("chat", "-m", "kimi-k2-turbo-preview", "--keep-files=false", "-f", doc, "Summarize")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if h.requestsTo("POST", "/v1/files") != 1 || h.requestsTo("DELETE", "/v1/files/file-emu-000001") != 1 {
		t.Fatalf("requests %v", h.srv.Requests())
	}
	if l := h.run("files", "list", "--json"); l.code != 0 || strings.TrimSpace(l.stdout) != "[]" {
		t.Fatalf("files left: %+v", l)
	}
	// Nothing cached: the next run uploads again.
	if r := h.run("chat", "-m", "kimi-k2-turbo-preview", "-f", doc, "Summarize"); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if n := h.requestsTo("POST", "/v1/files"); n != 2 {
		t.Fatalf("%d uploads", n)
	}
}

func TestTextFileIsInlinedFenced(t *testing.T) {
	h := newHarness(t)
	// Not a .txt name: the content decides. Backticks inside force a longer fence.
	text := "# notes\nuse ```go blocks``` and `x`\n"
	path := writeFile(t, "notes.data", []byte(text))
	r := h.run("chat", "-m", "kimi-k2-turbo-preview", "-f", path, "Check these notes")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if n := h.requestsTo("POST", "/v1/files"); n != 0 {
		t.Fatalf("a text file was uploaded")
	}
	msgs := messagesOf(h.chatBodies()[0])
	want := "Check these notes\n\nFile: " + path + "\n````\n" + text + "````"
	if len(msgs) != 1 || msgs[0]["content"] != want {
		t.Fatalf("user message %q\nwant %q", msgs[0]["content"], want)
	}
}

func TestStdinAsAFile(t *testing.T) {
	h := newHarness(t)
	h.stdin, h.piped = "line one\n", true
	r := h.run("chat", "-m", "kimi-k2-turbo-preview", "-f", "-", "Explain")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if got := messagesOf(h.chatBodies()[0])[0]["content"]; got != "Explain\n\nFile: stdin\n```\nline one\n```" {
		t.Fatalf("content %q", got)
	}
	// A file alone is a prompt; a document alone is not.
	if r := h.run("chat", "-m", "kimi-k2-turbo-preview", "-f", writeFile(t, "only.txt", []byte("just this"))); r.code != 0 {
		t.Fatalf("text file alone: exit %d: %s", r.code, r.stderr)
	}
	h.piped = false
	if r := h.run("chat", "-m", "kimi-k2-turbo-preview", "-f", writeFile(t, "d.docx", tinyDocx(t, "x"))); r.code != 2 || !strings.Contains(r.stderr, "no prompt") {
		t.Fatalf("document alone: exit %d: %s", r.code, r.stderr)
	}
}

func TestOversizedFileRefusedLocally(t *testing.T) {
	h := newHarness(t)
	path := filepath.Join(t.TempDir(), "huge.bin")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(100<<20 + 1); err != nil { // sparse: nothing is written
		t.Fatal(err)
	}
	f.Close()
	r := h.run("chat", "-m", "kimi-k2-turbo-preview", "-f", path, "x")
	if r.code != 2 || !strings.Contains(r.stderr, "larger than 100 MB") || len(h.srv.Requests()) != 0 {
		t.Fatalf("exit %d, %d requests, stderr %q", r.code, len(h.srv.Requests()), r.stderr)
	}
}

// pngBytes is the start of a PNG: enough for content sniffing.
var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00")

func TestImageToANonVisionModelFailsBeforeAnyRequest(t *testing.T) {
	h := newHarness(t)
	img := writeFile(t, "shot.png", pngBytes)
	doc := writeFile(t, "r.docx", tinyDocx(t, "x"))
	r := h.run("chat", "-m", "moonshot-v1-8k", "-i", img, "-f", doc, "What is this?")
	if r.code != 2 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if n := len(h.srv.Requests()); n != 0 {
		t.Fatalf("%d requests made (the upload must not happen either)", n)
	}
	if !strings.Contains(r.stderr, "moonshot-v1-8k does not accept images") || !strings.Contains(r.stderr, "kimi-k2.6") {
		t.Fatalf("stderr %q", r.stderr)
	}

	r = h.run("chat", "-m", "kimi-k2.6", "-i", img, "What is this?")
	if r.code != 0 {
		t.Fatalf("vision model: exit %d: %s", r.code, r.stderr)
	}
	parts := messagesOf(h.chatBodies()[0])[0]["content"].([]any)
	image := parts[0].(map[string]any)["image_url"].(map[string]any)["url"].(string)
	if len(parts) != 2 || !strings.HasPrefix(image, "data:image/png;base64,iVBORw0KGgo") || parts[1].(map[string]any)["text"] != "What is this?" {
		t.Fatalf("parts %v", parts)
	}

	notImage := writeFile(t, "fake.png", []byte("plain text"))
	if r := h.run("chat", "-m", "kimi-k2.6", "-i", notImage, "x"); r.code != 2 || !strings.Contains(r.stderr, "png, jpeg, webp, gif") {
		t.Fatalf("not an image: exit %d: %s", r.code, r.stderr)
	}
}

func TestWebSearchRoundTrip(t *testing.T) {
	h := newHarness(t)
	h.srv.SetReply(func(*emulator.ChatRequest) emulator.Reply { return emulator.Reply{Content: "Moonshot shipped K3."} })
	r := h.run("chat", "-m", "kimi-k2.6", "--web-search", "--format", "json", "What is new?")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	bodies := h.chatBodies()
	if len(bodies) != 2 {
		t.Fatalf("%d chat requests, want the question and the echo", len(bodies))
	}
	for i, b := range bodies {
		if th, _ := b["thinking"].(map[string]any); th["type"] != "disabled" {
			t.Fatalf("request %d thinking %v", i, b["thinking"])
		}
		tools, _ := b["tools"].([]any)
		if len(tools) != 1 || tools[0].(map[string]any)["type"] != "builtin_function" {
			t.Fatalf("request %d tools %v", i, b["tools"])
		}
	}
	msgs := messagesOf(bodies[1])
	if len(msgs) != 3 || msgs[1]["role"] != "assistant" || msgs[2]["role"] != "tool" {
		t.Fatalf("second request messages %v", msgs)
	}
	call := msgs[1]["tool_calls"].([]any)[0].(map[string]any)
	args := call["function"].(map[string]any)["arguments"].(string)
	if msgs[2]["tool_call_id"] != call["id"] || msgs[2]["name"] != "$web_search" || msgs[2]["content"] != args {
		t.Fatalf("the tool message does not echo the call: %v vs %v", msgs[2], call)
	}
	if !strings.Contains(args, `"search_id"`) {
		t.Fatalf("arguments %q", args)
	}
	// The arguments arrived in the first answer's stream; the echo is byte for byte the same.
	if _, ok := call["index"]; ok {
		t.Fatal("the stream index was sent back")
	}
	out := decodeObject(t, r.stdout)
	usage := out["usage"].(map[string]any)
	if out["content"] != "Moonshot shipped K3." || out["finish_reason"] != "stop" || usage["search_tokens"] != 1200.0 {
		t.Fatalf("json %v", out)
	}
	if !strings.Contains(r.stderr, `thinking set to "disabled" (kimi-k2.6 cannot use $web_search while thinking)`) ||
		!strings.Contains(r.stderr, "searching the web") {
		t.Fatalf("stderr %q", r.stderr)
	}
}

func TestWebSearchOnAThinkingModelKeepsItsReasoning(t *testing.T) {
	h := newHarness(t)
	h.srv.SetReply(func(*emulator.ChatRequest) emulator.Reply {
		return emulator.Reply{Reasoning: "Read the results.", Content: "Done."}
	})
	r := h.run("chat", "-m", "kimi-k3", "--web-search", "--format", "jsonl", "What is new?")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	// The tool-call turn is sent back with the reasoning that came with it.
	assistant := messagesOf(h.chatBodies()[1])[1]
	if assistant["reasoning_content"] != "The question needs fresh information; search the web." {
		t.Fatalf("assistant turn %v", assistant)
	}
	var reasoning strings.Builder
	for _, ev := range decodeLines(t, r.stdout) {
		if ev["type"] == "reasoning" {
			reasoning.WriteString(ev["text"].(string))
		}
	}
	if reasoning.String() != "The question needs fresh information; search the web.\n\nRead the results." {
		t.Fatalf("streamed reasoning %q", reasoning.String())
	}
}

func TestWebSearchStatusAndUsageLine(t *testing.T) {
	h := newHarness(t)
	h.tty = true
	r := h.run("chat", "-m", "kimi-k2-turbo-preview", "--web-search", "-u", "-q", "news?")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "searching…") || !strings.Contains(r.stderr, "1200 prompt tokens of web search results") {
		t.Fatalf("stderr %q", r.stderr)
	}
	// The live status is erased before the answer, and no plain notice repeats it.
	if strings.Contains(r.stderr, "searching the web") {
		t.Fatalf("notice on a terminal: %q", r.stderr)
	}
}

func weatherTools(t *testing.T) string {
	return writeFile(t, "tools.json", []byte(`{"tools": [{"type": "function", "function": {"name": "get_weather",
		"description": "Weather of a city", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]}`))
}

func TestToolChoiceRequiredPerFamily(t *testing.T) {
	tests := []struct {
		model    string
		extra    []string
		keeps    bool // tool_choice "required" reaches the API
		reported string
	}{
		{"kimi-k2-turbo-preview", nil, false, `Moonshot does not support tool_choice "required"`},
		{"kimi-k2-thinking", nil, false, "refused while kimi-k2-thinking thinks"},
		{"kimi-k2.6", nil, false, "refused while kimi-k2.6 thinks"},
		{"kimi-k3", nil, true, ""},
		// Moonshot refuses "required" on k2.6 with thinking off too: rule 3 still applies.
		{"kimi-k2.6", []string{"--no-thinking"}, false, `Moonshot does not support tool_choice "required" on kimi-k2.6`},
	}
	for _, tt := range tests {
		t.Run(tt.model+strings.Join(tt.extra, ""), func(t *testing.T) {
			h := newHarness(t)
			args := append([]string{"chat", "-m", tt.model, "--tools", weatherTools(t), "--tool-choice", "required"}, tt.extra...)
			r := h.run(append(args, "Weather in Paris?")...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			body := h.chatBodies()[0]
			msgs := messagesOf(body)
			last := msgs[len(msgs)-1]["content"]
			if tt.keeps {
				if body["tool_choice"] != "required" || last != "Weather in Paris?" {
					t.Fatalf("tool_choice %v, last message %q", body["tool_choice"], last)
				}
				return
			}
			if _, ok := body["tool_choice"]; ok || last != "Please select a tool to handle the current issue." {
				t.Fatalf("tool_choice %v, last message %q", body["tool_choice"], last)
			}
			if len(body["tools"].([]any)) != 1 || !strings.Contains(r.stderr, tt.reported) {
				t.Fatalf("tools %v, stderr %q", body["tools"], r.stderr)
			}
		})
	}
}

func TestToolCallsArePrintedNotRun(t *testing.T) {
	h := newHarness(t)
	h.srv.SetReply(func(*emulator.ChatRequest) emulator.Reply {
		return emulator.Reply{ToolCalls: []emulator.ToolCall{{Name: "get_weather", Arguments: `{"city":"Paris"}`}}}
	})
	tools := weatherTools(t)
	r := h.run("chat", "-m", "kimi-k3", "--tools", tools, "--tool-choice", "get_weather", "Weather in Paris?")
	if r.code != 0 || r.stdout != "tool call get_weather({\"city\":\"Paris\"})\n" {
		t.Fatalf("exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	if tc := h.chatBodies()[0]["tool_choice"].(map[string]any); tc["function"].(map[string]any)["name"] != "get_weather" {
		t.Fatalf("tool_choice %v", tc)
	}
	if n := len(h.chatBodies()); n != 1 {
		t.Fatalf("%d requests: moonchat must not answer the call", n)
	}
	r = h.run("chat", "-m", "kimi-k3", "--tools", tools, "--format", "json", "Weather in Paris?")
	out := decodeObject(t, r.stdout)
	calls := out["tool_calls"].([]any)
	if r.code != 0 || out["finish_reason"] != "tool_calls" || len(calls) != 1 || strings.Contains(r.stdout, "tool call get_weather(") {
		t.Fatalf("exit %d json %s", r.code, r.stdout)
	}
}

func TestToolsAreValidatedLocally(t *testing.T) {
	tests := []struct {
		name, file string
		args       []string
		stderr     string
	}{
		{"bad name", `[{"type":"function","function":{"name":"get weather"}}]`, nil, `tool name "get weather" is not allowed`},
		{"untyped property", `[{"function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{}}}}}]`, nil, "parameters.properties.city has no type"},
		{"not json", `{"tools": nope}`, nil, "--tools"},
		{"empty", `[]`, nil, "declares no tools"},
		{"unknown choice", `[{"type":"function","function":{"name":"get_weather"}}]`, []string{"--tool-choice", "get_time"}, "declared tool (get_weather)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			args := append([]string{"chat", "-m", "kimi-k3", "--tools", writeFile(t, "t.json", []byte(tt.file))}, tt.args...)
			r := h.run(append(args, "x")...)
			if r.code != 2 || !strings.Contains(r.stderr, tt.stderr) || len(h.srv.Requests()) != 0 {
				t.Fatalf("exit %d, %d requests, stderr %q", r.code, len(h.srv.Requests()), r.stderr)
			}
		})
	}
	h := newHarness(t)
	if r := h.run("chat", "--tool-choice", "auto", "x"); r.code != 2 || !strings.Contains(r.stderr, "needs tools") {
		t.Fatalf("tool choice without tools: %+v", r)
	}
}

const longAnswer = "Once upon a time, Kimi wrote a story about a moon that learned to read. " +
	"Every night it read one page of the sea, and every morning the tide remembered a word. " +
	"By winter the whole coast could recite the book, and the moon started a second volume."

func TestPrefillStartsTheAnswer(t *testing.T) {
	h := newHarness(t)
	full := `{"name": "Kimi", "maker": "Moonshot"}`
	h.srv.SetReply(func(*emulator.ChatRequest) emulator.Reply { return emulator.Reply{Content: full} })
	prefill := `{"name": "`
	r := h.run("chat", "-m", "kimi-k2-turbo-preview", "--prefill", prefill, "Describe yourself as JSON")
	if r.code != 0 || r.stdout != full+"\n" {
		t.Fatalf("exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	msgs := messagesOf(h.chatBodies()[0])
	if last := msgs[len(msgs)-1]; last["role"] != "assistant" || last["content"] != prefill || last["partial"] != true {
		t.Fatalf("last message %v", last)
	}
	r = h.run("chat", "-m", "kimi-k2-turbo-preview", "--prefill", prefill, "--format", "json", "Describe yourself as JSON")
	if out := decodeObject(t, r.stdout); out["content"] != full {
		t.Fatalf("json content %q", out["content"])
	}
	// With rule 3 of the fixes, the partial message still comes last.
	r = h.run("chat", "-m", "kimi-k2-turbo-preview", "--tools", weatherTools(t), "--tool-choice", "required", "--prefill", prefill, "x")
	msgs = messagesOf(h.chatBodies()[len(h.chatBodies())-1])
	if r.code != 0 || msgs[len(msgs)-1]["partial"] != true || msgs[len(msgs)-2]["content"] != "Please select a tool to handle the current issue." {
		t.Fatalf("exit %d messages %v", r.code, msgs)
	}
}

func TestAutoContinueStitchesExactly(t *testing.T) {
	h := newHarness(t)
	h.srv.SetReply(func(*emulator.ChatRequest) emulator.Reply { return emulator.Reply{Content: longAnswer} })
	r := h.run("chat", "-m", "kimi-k2-turbo-preview", "--max-tokens", "12", "--max-continues", "20", "--format", "json", "Tell a story")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	out := decodeObject(t, r.stdout)
	if out["content"] != longAnswer || out["finish_reason"] != "stop" {
		t.Fatalf("content %q finish %v", out["content"], out["finish_reason"])
	}
	bodies := h.chatBodies()
	if len(bodies) < 3 {
		t.Fatalf("only %d requests: the answer was not cut", len(bodies))
	}
	// Each continuation sends the answer so far as the partial assistant message, and each
	// part is billed: the usage is the sum of the parts'.
	var sofar string
	completion := 0
	for i, b := range bodies[1:] {
		msgs := messagesOf(b)
		last := msgs[len(msgs)-1]
		now, _ := last["content"].(string)
		if last["partial"] != true || !strings.HasPrefix(longAnswer, now) || len(now) <= len(sofar) {
			t.Fatalf("continuation %d sent %v", i+1, last)
		}
		completion += emulator.CountText(now[len(sofar):])
		sofar = now
	}
	completion += emulator.CountText(longAnswer[len(sofar):])
	usage := out["usage"].(map[string]any)
	if usage["completion_tokens"] != float64(completion) || usage["total_tokens"] != usage["prompt_tokens"].(float64)+usage["completion_tokens"].(float64) {
		t.Fatalf("usage %v, want %d completion tokens over %d parts", usage, completion, len(bodies))
	}

	// Text output is the same answer, seamless; a budget too small ends on "length".
	h2 := newHarness(t)
	h2.srv.SetReply(func(*emulator.ChatRequest) emulator.Reply { return emulator.Reply{Content: longAnswer} })
	if r := h2.run("chat", "-m", "kimi-k2-turbo-preview", "--max-tokens", "12", "--max-continues", "20", "-q", "Tell a story"); r.stdout != longAnswer+"\n" {
		t.Fatalf("text %q", r.stdout)
	}
	r = h2.run("chat", "-m", "kimi-k2-turbo-preview", "--max-tokens", "12", "--max-continues", "1", "--format", "json", "Tell a story")
	out = decodeObject(t, r.stdout)
	if out["finish_reason"] != "length" || !strings.HasPrefix(longAnswer, out["content"].(string)) || out["content"] == longAnswer {
		t.Fatalf("one continue: %v", out)
	}
}

func TestAutoContinueAfterPrefill(t *testing.T) {
	h := newHarness(t)
	h.srv.SetReply(func(*emulator.ChatRequest) emulator.Reply { return emulator.Reply{Content: longAnswer} })
	r := h.run("chat", "-m", "kimi-k2-turbo-preview", "--prefill", "Once upon a time,", "--max-tokens", "16", "--max-continues", "20", "-q", "Tell a story")
	if r.code != 0 || r.stdout != longAnswer+"\n" {
		t.Fatalf("exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestAutoModelPicksTheSmallestThatFits(t *testing.T) {
	h := newHarness(t)
	r := h.run("chat", "-m", "auto", "hello")
	if r.code != 0 || h.chatBodies()[0]["model"] != "kimi-k2.6" {
		t.Fatalf("exit %d model %v stderr %q", r.code, h.chatBodies()[0]["model"], r.stderr)
	}
	if !strings.Contains(r.stderr, "-m auto picked kimi-k2.6 (") || !strings.Contains(r.stderr, "+ 4,096 answer tokens fit 262,144)") {
		t.Fatalf("stderr %q", r.stderr)
	}

	// Over 8k tokens in the emulator's tokenizer (one per 4-letter word), with a list of small
	// windows.
	t.Setenv("MOONCHAT_AUTO_MODELS", "moonshot-v1-8k,moonshot-v1-32k,kimi-k2.6")
	h.srv.Reset()
	big := writeFile(t, "big.txt", []byte(strings.Repeat("word ", 9000)))
	r = h.run("chat", "-m", "auto", "-f", big, "Count the words")
	if r.code != 0 || h.chatBodies()[0]["model"] != "moonshot-v1-32k" || !strings.Contains(r.stderr, "picked moonshot-v1-32k") {
		t.Fatalf("exit %d model %v stderr %q", r.code, h.chatBodies()[0]["model"], r.stderr)
	}

	// An image needs a vision model: the first of the list that takes it.
	t.Setenv("MOONCHAT_AUTO_MODELS", "moonshot-v1-8k,kimi-k2.6")
	h.srv.Reset()
	r = h.run("chat", "-m", "auto", "--dry-run", "-i", writeFile(t, "i.png", pngBytes), "What is it?")
	if r.code != 0 || !strings.Contains(r.stdout, `"model":"kimi-k2.6"`) || len(h.chatBodies()) != 0 {
		t.Fatalf("exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}

	// No model of the list can switch thinking off: refused before anything is sent.
	h.srv.Reset()
	t.Setenv("MOONCHAT_AUTO_MODELS", "moonshot-v1-8k,kimi-k3")
	if r := h.run("chat", "-m", "auto", "--no-thinking", "-f", writeFile(t, "d.docx", tinyDocx(t, "x")), "x"); r.code != 2 ||
		!strings.Contains(r.stderr, "no model of auto_models (moonshot-v1-8k, kimi-k3) takes these flags") || len(h.srv.Requests()) != 0 {
		t.Fatalf("exit %d, %d requests, stderr %q", r.code, len(h.srv.Requests()), r.stderr)
	}
	t.Setenv("MOONCHAT_AUTO_MODELS", "")

	if r := h.run("chat", "-m", "auto", "--max-tokens", "2000000", "x"); r.code != 2 || !strings.Contains(r.stderr, "fit no model of auto_models") {
		t.Fatalf("nothing fits: exit %d stderr %q", r.code, r.stderr)
	}
}

func TestThinkingControls(t *testing.T) {
	tests := []struct {
		args   []string
		code   int
		check  func(body map[string]any) bool
		stderr string
	}{
		{[]string{"-m", "kimi-k2.6", "--no-thinking"}, 0, func(b map[string]any) bool {
			return b["thinking"].(map[string]any)["type"] == "disabled"
		}, ""},
		{[]string{"-m", "kimi-k3", "--reasoning-effort", "low"}, 0, func(b map[string]any) bool { return b["reasoning_effort"] == "low" }, ""},
		{[]string{"-m", "kimi-k3", "--no-thinking"}, 2, nil, "kimi-k3 always thinks; the switch is for kimi-k2.6"},
		{[]string{"-m", "moonshot-v1-8k", "--no-thinking"}, 2, nil, "moonshot-v1-8k does not think"},
		{[]string{"-m", "kimi-k2.6", "--reasoning-effort", "high"}, 2, nil, "--reasoning-effort is for kimi-k3, not kimi-k2.6"},
		{[]string{"-m", "kimi-k3", "--reasoning-effort", "medium"}, 2, nil, "low, high or max"},
		{[]string{"-m", "kimi-k2.7-code", "--web-search"}, 2, nil, "always thinks"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			h := newHarness(t)
			r := h.run(append(append([]string{"chat"}, tt.args...), "hi")...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.stderr) {
				t.Fatalf("exit %d stderr %q", r.code, r.stderr)
			}
			if tt.check == nil {
				if len(h.srv.Requests()) != 0 {
					t.Fatal("a request was made")
				}
				return
			}
			if !tt.check(h.chatBodies()[0]) {
				t.Fatalf("body %v", h.chatBodies()[0])
			}
		})
	}
}

func TestFeatureFlagCombinations(t *testing.T) {
	tests := []struct {
		args   []string
		stderr string
	}{
		{[]string{"--web-search", "-n", "2", "-m", "moonshot-v1-8k"}, "--web-search works with one answer"},
		{[]string{"--prefill", "{", "--json-mode"}, "Partial Mode"},
		{[]string{"--prefill", ""}, "--prefill needs a text"},
		{[]string{"--max-continues", "-1"}, "--max-continues must be 0 to 20"},
		{[]string{"-f", "-"}, "standard input is a terminal"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			h := newHarness(t)
			r := h.run(append(append([]string{"chat"}, tt.args...), "hi")...)
			if r.code != 2 || !strings.Contains(r.stderr, tt.stderr) || len(h.srv.Requests()) != 0 {
				t.Fatalf("exit %d stderr %q", r.code, r.stderr)
			}
		})
	}
}

func TestDryRunUploadsNothing(t *testing.T) {
	h := newHarness(t)
	doc := writeFile(t, "plan.docx", tinyDocx(t, "the plan"))
	r := h.run("chat", "--dry-run", "-m", "kimi-k2-turbo-preview", "-f", doc, "Summarize")
	if r.code != 0 || len(h.srv.Requests()) != 0 {
		t.Fatalf("exit %d, %d requests, stderr %q", r.code, len(h.srv.Requests()), r.stderr)
	}
	if !strings.Contains(r.stdout, "[the text Moonshot extracts from "+doc+" goes here once it is uploaded]") ||
		!strings.Contains(r.stderr, "placeholder") {
		t.Fatalf("stdout %q stderr %q", r.stdout, r.stderr)
	}
	// Once uploaded, a dry run shows the real extraction, read from the server.
	if r := h.run("chat", "-m", "kimi-k2-turbo-preview", "-f", doc, "Summarize"); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	h.srv.Reset()
	r = h.run("chat", "--dry-run", "-m", "kimi-k2-turbo-preview", "-f", doc, "Summarize")
	if r.code != 0 || !strings.Contains(r.stdout, `the plan`) || len(h.srv.Requests()) != 1 || h.requestsTo("GET", "/v1/files/file-emu-000001/content") != 1 {
		t.Fatalf("exit %d stdout %q requests %v", r.code, r.stdout, h.srv.Requests())
	}
}
