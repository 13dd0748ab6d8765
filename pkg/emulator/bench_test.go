package emulator

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// benchAnswer is a 512 KB answer of mixed ASCII and CJK text.
var benchAnswer = strings.Repeat("The Moon is 384,400 km away. 月は地球の衛星です。\n", 512*1024/64)

func benchStream(b *testing.B, client *http.Client, base string) {
	body := chatBody("kimi-k2-turbo-preview", "", `,"stream":true`)
	b.SetBytes(int64(len(benchAnswer)))
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest("POST", base+"/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testKey)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
	}
}

// BenchmarkStreamLoopback: a 512 KB answer in 16-byte deltas (about 36k
// events) over a loopback socket, as tests and benchmarks of the client see it.
func BenchmarkStreamLoopback(b *testing.B) {
	s, err := Start(Config{APIKey: testKey, Reply: func(*ChatRequest) Reply { return Reply{Content: benchAnswer} }})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	benchStream(b, http.DefaultClient, s.URL)
	s.Reset() // recorded requests are not part of the measure
}

// BenchmarkStreamOffline: the same through the socket-free offline client.
func BenchmarkStreamOffline(b *testing.B) {
	e := NewHandler(Config{APIKey: testKey, Reply: func(*ChatRequest) Reply { return Reply{Content: benchAnswer} }})
	benchStream(b, e.Client(), OfflineBaseURL)
}

// BenchmarkParseChat: validating a 50-message conversation with tools.
func BenchmarkParseChat(b *testing.B) {
	var msgs []map[string]any
	for i := range 25 {
		msgs = append(msgs, map[string]any{"role": "user", "content": strings.Repeat("question ", 40) + string(rune('a'+i%26))},
			map[string]any{"role": "assistant", "content": strings.Repeat("answer ", 80)})
	}
	mb, _ := json.Marshal(msgs)
	body := []byte(chatBody("kimi-k2-turbo-preview", string(mb), weatherTool+`,"temperature":0.6,"max_tokens":2000`))
	e := NewHandler(Config{})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var raw map[string]any
		if err := json.Unmarshal(body, &raw); err != nil {
			b.Fatal(err)
		}
		if _, err := parseChat(raw, e.lookup); err != nil {
			b.Fatal(err)
		}
	}
}
