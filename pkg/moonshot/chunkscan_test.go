package moonshot

import (
	"encoding/json"
	"reflect"
	"testing"
)

var chunkSeeds = []string{
	`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1767225619,"model":"kimi-k2.6","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`,
	`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1767225619,"model":"kimi-k2.6","choices":[{"index":0,"delta":{"content":"## Section 1\n\nTh"},"finish_reason":null}]}`,
	`{"id":"c","choices":[{"index":0,"delta":{"reasoning_content":"thinking \"hard\" \\ \/ \b\f\r\t \u00e9\u4e2d"},"finish_reason":null}],"system_fingerprint":"fp"}`,
	`{"id":"c","choices":[{"index":1,"delta":{},"finish_reason":"stop"}]}`,
	` { "id" : "c" , "choices" : [ { "index" : 0 , "delta" : { "content" : "流式输出 👍" } } ] } ` + "\n",
	`{"id":"c","choices":[]}`,
	`{}`,
	`{"id":"c","created":-5,"choices":[{"index":0,"delta":{"content":"a"}},{"index":1,"delta":{"content":"b"}}]}`,
	// Shapes left to encoding/json.
	`{"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"stop","usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}]}`,
	`{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"t","type":"function","function":{"name":"f","arguments":""}}]}}]}`,
	`{"ID":"c","Choices":[]}`,
	`{"id":null,"choices":[]}`,
	`{"id":"c","created":1.5}`,
	`{"id":"c","created":01}`,
	`{"id":"\ud83d\ude00"}`,
	`{"id":"\ud800"}`,
	"{\"id\":\"\xff\"}",
	`{"id":"c","choices":[],"choices":[{"index":0}]}`,
	`{"id":"c"} x`,
	`{"id":"c",}`,
	`{"error":{"type":"server_error","message":"boom"}}`,
	`{"id":"c","choices":[{"index":99999999999999999999}]}`,
	`{"id":"a\u0000b","choices":null}`,
	"{\"id\":\"a\nb\"}", // a raw control character, which a previous id decoded from "a\\nb" must not excuse
}

// scanChunk and encoding/json agree on everything scanChunk accepts.
func FuzzScanChunk(f *testing.F) {
	for _, s := range chunkSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var fast ChatCompletionChunk
		ok := scanChunk(data, &fast, nil)
		// With a previous event's strings to reuse, the outcome is the same.
		for _, prev := range []ChatCompletionChunk{fast, {ID: "a\nb", Object: `q"`, Model: "m\\"}} {
			var again ChatCompletionChunk
			if ok2 := scanChunk(data, &again, &prev); ok2 != ok || (ok && !reflect.DeepEqual(again, fast)) {
				t.Fatalf("%q with previous %+v: %v %+v, without: %v %+v", data, prev, ok2, again, ok, fast)
			}
		}
		if !ok {
			return
		}
		var ref ChatCompletionChunk
		if err := json.Unmarshal(data, &ref); err != nil {
			t.Fatalf("scanChunk accepted %q, which encoding/json rejects: %v", data, err)
		}
		if !reflect.DeepEqual(fast, ref) {
			t.Fatalf("%q:\nscanChunk     %+v\nencoding/json %+v", data, fast, ref)
		}
	})
}

// The events of a plain streamed answer take the fast path; the others are left to
// encoding/json.
func TestScanChunkTakesTheCommonShapes(t *testing.T) {
	for i, s := range chunkSeeds {
		var ev ChatCompletionChunk
		got := scanChunk([]byte(s), &ev, nil)
		if want := i < 8; got != want {
			t.Errorf("seed %d %s: fast path %v, want %v", i, s, got, want)
		}
	}
}

func BenchmarkDecodeChunk(b *testing.B) {
	data := []byte(chunkSeeds[1])
	b.Run("scanChunk", func(b *testing.B) {
		var prev ChatCompletionChunk
		scanChunk(data, &prev, nil)
		for b.Loop() {
			var ev ChatCompletionChunk
			if !scanChunk(data, &ev, &prev) {
				b.Fatal("not scanned")
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			var ev ChatCompletionChunk
			if err := json.Unmarshal(data, &ev); err != nil {
				b.Fatal(err)
			}
		}
	})
}
