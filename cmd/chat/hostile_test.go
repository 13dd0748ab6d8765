package chat

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/internal/clitest"
	"github.com/moonchat/moonchat/internal/hostile"
)

// TestHostileUpstreamCostsNothingSaved drives chat against the misbehaving server: a protocol
// error exits 75 with the partial answer printed and saved (marked incomplete); broken usage is
// one warning; an HTML page is named; a completion answering a stream is an answer.
func TestHostileUpstreamCostsNothingSaved(t *testing.T) {
	srv := httptest.NewServer(&hostile.Server{BombBytes: 64 << 20})
	defer srv.Close()
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     string
		stderr     string
		incomplete bool
	}{
		{hostile.NegativeIndex, nil, 75, hostile.Content, "choice index -1", true},
		{hostile.HugeIndex, nil, 75, hostile.Content, "choice index 3000000", true},
		{hostile.GzipBomb, nil, 75, "", "larger than moonchat's limit of 8 MB", false},
		{hostile.GzipBomb, []string{"--no-stream"}, 75, "", "larger than moonchat's limit of 32 MB", false},
		{hostile.AbsurdUsage, []string{"-u"}, 0, hostile.Content, "token usage out of range", false},
		{hostile.HTML, nil, 75, "", "answered with an HTML page, not the API", false},
		{hostile.JSONCompletion, nil, 0, hostile.Content, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name+strings.Join(tt.args, ""), func(t *testing.T) {
			e := newTestEnv(t)
			t.Setenv("MOONSHOT_API_BASE", srv.URL+"/"+tt.name+"/v1")
			r := e.run(append(append([]string{"-m", "kimi-k2.6", "--max-retries", "0"}, tt.args...), "hi")...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d: %s", r.code, tt.code, r.stderr)
			}
			if strings.TrimSpace(r.stdout) != tt.stdout {
				t.Errorf("stdout = %q, want %q", r.stdout, tt.stdout)
			}
			if !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("stderr = %q, want it to mention %q", r.stderr, tt.stderr)
			}
			if n := strings.Count(r.stderr, "token usage out of range"); n > 1 {
				t.Errorf("the usage warning was given %d times", n)
			}
			if strings.Contains(r.stderr, "busy") {
				t.Errorf("a protocol error is blamed on a busy server: %q", r.stderr)
			}
			if tt.stdout == "" {
				return
			}
			convs := clitest.Conversations(t)
			if len(convs) != 1 || len(convs[0].Msgs) != 2 {
				t.Fatalf("saved %+v", convs)
			}
			answer := convs[0].Msgs[1]
			if answer.Content != tt.stdout || answer.Incomplete != tt.incomplete {
				t.Errorf("saved %q (incomplete %v), want %q (incomplete %v)", answer.Content, answer.Incomplete, tt.stdout, tt.incomplete)
			}
		})
	}
}

// TestRefusedKeyReportsLikeTheRoot checks the harness prints an error as moonchat does (one
// reporter, cli.ReportError): the 401's hint names where the key came from, which only the
// settings know.
func TestRefusedKeyReportsLikeTheRoot(t *testing.T) {
	e := newTestEnv(t)
	t.Setenv("MOONSHOT_API_KEY", "sk-wrong-key-0123456789")
	r := e.run("-m", "kimi-k2.6", "hi")
	if r.code != 3 || r.stdout != "" {
		t.Fatalf("exit %d, stdout %q, want 3 and nothing", r.code, r.stdout)
	}
	if want := "  hint: the key comes from $MOONSHOT_API_KEY; check it, or set up another with `moonchat config init`."; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
	}
	if strings.Contains(r.stderr, "sk-wrong") {
		t.Errorf("the key is on stderr:\n%s", r.stderr)
	}
}
