package emulator

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestFormulaDeclarations(t *testing.T) {
	s := start(t, Config{})
	for _, uri := range FormulaURIs() {
		resp, body := do(t, s, http.MethodGet, "/formulas/"+uri+"/tools", "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", uri, resp.StatusCode, body)
		}
		var out struct {
			Tools []struct {
				Type     string `json:"type"`
				Function struct {
					Name        string         `json:"name"`
					Description string         `json:"description"`
					Parameters  map[string]any `json:"parameters"`
				} `json:"function"`
			} `json:"tools"`
		}
		if err := json.Unmarshal(body, &out); err != nil || len(out.Tools) == 0 {
			t.Fatalf("%s: %s", uri, body)
		}
		for _, tl := range out.Tools {
			// The declarations must pass the emulator's own chat validation when sent as tools.
			if tl.Type != "function" || tl.Function.Name == "" || tl.Function.Description == "" || tl.Function.Parameters["type"] != "object" {
				t.Errorf("%s: declaration %+v", uri, tl)
			}
		}
		decl, _ := json.Marshal(out.Tools)
		resp, body = do(t, s, http.MethodPost, "/chat/completions",
			chatBody("kimi-k2.6", `[{"role":"user","content":"hi"}]`, `,"tools":`+string(decl)))
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: chat with its declarations: %d %s", uri, resp.StatusCode, body)
		}
	}
}

func TestFormulaRoutesAreStrict(t *testing.T) {
	s := start(t, Config{})
	for _, tc := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"GET", "/formulas/moonshot/memory:latest/tools", "", 404, "formula moonshot/memory:latest not found"},
		{"GET", "/formulas/moonshot/date:latest/other", "", 404, "not found"},
		{"GET", "/formulas/nothing", "", 404, "Not found"},
		{"POST", "/formulas/moonshot/date:latest/tools", "", 405, "method POST"},
		{"GET", "/formulas/moonshot/date:latest/fibers", "", 405, "method GET"},
		{"POST", "/formulas/moonshot/date:latest/fibers", `nope`, 400, "not a JSON object"},
		{"POST", "/formulas/moonshot/date:latest/fibers", `{"name":"fetch","arguments":"{}"}`, 400, `no function named \"fetch\"`},
		{"POST", "/formulas/moonshot/date:latest/fibers", `{"name":"date","arguments":{}}`, 400, "must be a string"},
		{"POST", "/formulas/moonshot/date:latest/fibers", `{"name":"date"}`, 400, "must be a string"},
		{"POST", "/formulas/moonshot/date:latest/fibers", `{"name":"date","arguments":"{\"timezone\":\"Mars/Base\"}"}`, 200, `"status":"failed"`},
		{"POST", "/formulas/moonshot/fetch:latest/fibers", `{"name":"fetch","arguments":"{\"url\":\"https://a.example/\",\"max_length\":1.5}"}`, 200, "max_length must be of type integer"},
		{"POST", "/formulas/moonshot/fetch:latest/fibers", `{"name":"fetch","arguments":"{\"url\":\"https://a.example/\",\"max_length\":9}"}`, 200, `"output":"# a.examp"`},
		{"POST", "/formulas/moonshot/web-search:latest/fibers", `{"name":"web_search","arguments":"{\"query\":\"q\",\"classes\":[1]}"}`, 200, "classes must be of type array"},
	} {
		resp, body := do(t, s, tc.method, tc.path, tc.body)
		if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.want) {
			t.Errorf("%s %s %s: %d %s; want %d with %q", tc.method, tc.path, tc.body, resp.StatusCode, body, tc.status, tc.want)
		}
	}
	resp, _ := doWith(t, http.DefaultClient, s.URL, "GET", "/formulas/moonshot/date:latest/tools", "", "wrong")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a wrong key gets %d", resp.StatusCode)
	}
}
