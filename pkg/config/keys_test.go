package config

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestKeyTable(t *testing.T) {
	required := []string{"api_key", "api_base", "region", "model", "temperature", "max_tokens", "format",
		"wrap", "style", "save_history", "timeout", "max_retries", "proxy", "auto_models", "show_reasoning"}
	for _, name := range required {
		if _, ok := Lookup(name); !ok {
			t.Errorf("key %q missing", name)
		}
	}
	types := map[string]bool{TypeString: true, TypeInt: true, TypeFloat: true, TypeBool: true,
		TypeDuration: true, TypeEnum: true, TypeList: true, TypeURL: true}
	seenEnv := map[string]string{}
	for _, k := range Keys() {
		if !types[k.Type] {
			t.Errorf("%s: unknown type %q", k.Name, k.Type)
		}
		if k.Description == "" {
			t.Errorf("%s: no description", k.Name)
		}
		if want := "MOONCHAT_" + strings.ToUpper(k.Name); len(k.Env) == 0 || k.Env[0] != want {
			t.Errorf("%s: Env = %v, want %s first", k.Name, k.Env, want)
		}
		for _, e := range k.Env {
			if other, dup := seenEnv[e]; dup {
				t.Errorf("%s and %s both read %s", other, k.Name, e)
			}
			seenEnv[e] = k.Name
		}
		if k.Type == TypeEnum && len(k.Enum) == 0 {
			t.Errorf("%s: enum without values", k.Name)
		}
		if k.Default != "" {
			if err := k.Check(k.Default); err != nil {
				t.Errorf("%s: default %q is invalid: %v", k.Name, k.Default, err)
			}
		}
	}
	if _, ok := Lookup("modle"); ok {
		t.Error("Lookup accepted a misspelt name")
	}
	if k, _ := Lookup("api_key"); !k.Secret || k.Env[1] != "MOONSHOT_API_KEY" {
		t.Errorf("api_key = %+v", k)
	}
	keys := Keys()
	keys[0].Env[0] = "CHANGED"
	if k, _ := Lookup(keys[0].Name); k.Env[0] == "CHANGED" {
		t.Error("Keys() exposes the shared table")
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		key, value string
		want       string // canonical value, or the error when wantErr
		wantErr    bool
	}{
		{"temperature", "0", "0", false},
		{"temperature", "2", "2", false},
		{"temperature", "0.7", "0.7", false},
		{"temperature", "hot", `"hot" is not a number`, true},
		{"temperature", "-0.1", `"-0.1" is outside 0 to 2`, true},
		{"temperature", "2.5", `"2.5" is outside 0 to 2`, true},
		{"temperature", "NaN", `"NaN" is not a number`, true},
		{"temperature", "", "empty value", true},
		{"max_tokens", "1", "1", false},
		{"max_tokens", "0", `"0" must be greater than 0`, true},
		{"max_tokens", "1k", `"1k" is not a whole number`, true},
		{"wrap", "0", "0", false},
		{"wrap", "-1", `"-1" must not be negative`, true},
		{"max_retries", "007", "7", false},
		{"format", "JSONL", "jsonl", false},
		{"format", "xml", `"xml" is not one of auto, markdown, text, json, jsonl`, true},
		{"style", "notty", "notty", false},
		{"region", "eu", `"eu" is not one of global, cn`, true},
		{"save_history", "Yes", "true", false},
		{"save_history", "0", "false", false},
		{"save_history", "maybe", `"maybe" is not true or false`, true},
		{"timeout", "90s", "90s", false},
		{"timeout", "0", "0", false},
		{"timeout", "soon", `"soon" is not a duration (e.g. 90s, 10m, 1h)`, true},
		{"timeout", "-5s", `"-5s" must not be negative`, true},
		{"proxy", "socks5h://127.0.0.1:1080", "socks5h://127.0.0.1:1080", false},
		{"proxy", "socks://127.0.0.1:1080", "socks://127.0.0.1:1080", false},
		{"proxy", "https://proxy:443", "https://proxy:443", false},
		{"proxy", "ftp://u:pw@proxy:21", `"ftp://u:xxxxx@proxy:21" has scheme "ftp"; use http, https, socks5, socks5h or socks`, true},
		{"proxy", "proxy:3128", `"proxy:3128" is not an absolute URL (e.g. http://host:port)`, true},
		{"api_base", "https://api.moonshot.cn/v1", "https://api.moonshot.cn/v1", false},
		{"api_base", "api.moonshot.ai", `"api.moonshot.ai" is not an absolute URL (e.g. http://host:port)`, true},
		{"api_base", "socks5://x:1", `"socks5://x:1" must start with http:// or https://`, true},
		{"model", "moonshot/kimi-k2.6", "moonshot/kimi-k2.6", false},
		{"model", "kimi k2", `"kimi k2" contains spaces`, true},
		{"auto_models", " a, b ,,c ", "a,b,c", false},
		{"auto_models", " , ", "needs at least one model id", true},
		{"api_key", "sk-abc", "sk-abc", false},
		{"api_key", "sk-abc\tdef", "contains spaces or control characters (was it pasted with extra text?)", true},
	}
	for _, tt := range tests {
		k, ok := Lookup(tt.key)
		if !ok {
			t.Fatalf("no key %s", tt.key)
		}
		got, err := k.canonical(tt.value)
		switch {
		case tt.wantErr && (err == nil || err.Error() != tt.want):
			t.Errorf("%s %q: error %v, want %q", tt.key, tt.value, err, tt.want)
		case !tt.wantErr && (err != nil || got != tt.want):
			t.Errorf("%s %q = %q, %v; want %q", tt.key, tt.value, got, err, tt.want)
		}
		if (k.Check(tt.value) != nil) != tt.wantErr {
			t.Errorf("Check(%s %q) disagrees with canonical", tt.key, tt.value)
		}
	}
}

func TestValues(t *testing.T) {
	if k, _ := Lookup("format"); strings.Join(k.Values(), ",") != "auto,markdown,text,json,jsonl" {
		t.Errorf("format values = %v", k.Values())
	}
	if k, _ := Lookup("save_history"); strings.Join(k.Values(), ",") != "true,false" {
		t.Errorf("save_history values = %v", k.Values())
	}
	if k, _ := Lookup("model"); k.Values() != nil {
		t.Errorf("model values = %v, want open set", k.Values())
	}
}

func TestSuggest(t *testing.T) {
	tests := map[string]string{
		"modle":       "model",
		"Model":       "model",
		"max-tokens":  "max_tokens",
		"maxtokens":   "max_tokens",
		"temprature":  "temperature",
		"apikey":      "api_key",
		"api-key":     "api_key",
		"savehistory": "save_history",
		"colour":      "",
		"x":           "",
		"":            "",
	}
	for in, want := range tests {
		if got := Suggest(in); got != want {
			t.Errorf("Suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMask(t *testing.T) {
	tests := map[string]string{
		"":                                      "",
		"sk-abcdefghijklmnopqrstuvwxyz0123a1b2": "sk-…a1b2",
		"abcdefghijklmnopqrstuvwxyz0123wxyz":    "…wxyz",
		"sk-short":                              "sk-…",
		"short":                                 "…",
		"sk-0123456789abcde":                    "sk-…",
		"sk-0123456789abcdef":                   "sk-…cdef",
	}
	for in, want := range tests {
		if got := Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

// The promise of Mask: whatever the input, the output shows at most the last 4 characters of
// the secret (plus the well-known "sk-" prefix).
func FuzzMask(f *testing.F) {
	for _, s := range []string{"", "sk-", "sk-abcdefghijklmnopqrstuvwxyz", "ключ-ключ-ключ-ключ-ключ", "sk-sk-sk-sk-sk-sk-sk-sk"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, secret string) {
		got := Mask(secret)
		rest := strings.TrimPrefix(strings.TrimPrefix(got, "sk-"), "…")
		if secret != "" && !strings.Contains(got, "…") {
			t.Fatalf("Mask(%q) = %q has no ellipsis", secret, got)
		}
		if utf8.RuneCountInString(rest) > 4 || !strings.HasSuffix(secret, rest) {
			t.Fatalf("Mask(%q) = %q reveals more than the last 4 characters", secret, got)
		}
	})
}

func TestFind(t *testing.T) {
	if k, err := Find("model"); err != nil || k.Name != "model" {
		t.Fatalf("Find(model) = %v, %v", k.Name, err)
	}
	_, err := Find("modle")
	if !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), `did you mean "model"`) {
		t.Fatalf("Find(modle) = %v", err)
	}
}
