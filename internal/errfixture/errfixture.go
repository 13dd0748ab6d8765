// Package errfixture reads the error answers of pkg/moonshot/testdata/errors, each written
// from Moonshot's error reference with what moonchat must make of it, for the tests of the
// client, the error mapper and the commands.
package errfixture

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Answer is one documented error answer and what moonchat must make of it.
type Answer struct {
	Source  string            `json:"source"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
	Expect  struct {
		Exit        int     `json:"exit"`
		Hint        string  `json:"hint"`
		Retried     bool    `json:"retried"`
		WaitSeconds float64 `json:"wait_seconds"`
	} `json:"expect"`
}

// dir is pkg/moonshot/testdata/errors, found from this file so that a test of any package
// reads the same files.
func dir(t testing.TB) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("errfixture: no source path")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "pkg", "moonshot", "testdata", "errors")
}

// All reads every answer, by name (the file name without .json).
func All(t testing.TB) map[string]Answer {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir(t), "*.json"))
	if err != nil || len(paths) < 20 {
		t.Fatalf("error fixtures: %v (%d files)", err, len(paths))
	}
	out := map[string]Answer{}
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".json")
		out[name] = Named(t, name)
	}
	return out
}

// Named reads the answer of that name.
func Named(t testing.TB, name string) Answer {
	t.Helper()
	p := filepath.Join(dir(t), name+".json")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var a Answer
	if err := json.Unmarshal(data, &a); err != nil || a.Status == 0 || a.Source == "" {
		t.Fatalf("%s: %v (a fixture has a status and a source)", p, err)
	}
	return a
}

// Write sends the answer as Moonshot would: its headers, its status and its JSON body.
func (a Answer) Write(w http.ResponseWriter) {
	for k, v := range a.Headers {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.Status)
	_, _ = w.Write(a.Body)
}
