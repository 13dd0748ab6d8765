//go:build soak && unix

package chat_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// The soak looks for the rare stall seen once under heavy load: a one-shot run with a paced,
// CJK-heavy markdown answer that stopped drawing mid-line and stayed alive for minutes after
// its server had gone. It is behind the soak build tag (not part of `go test ./...`):
//
//	go test -tags soak -run TestSoak -timeout 60m ./cmd/chat/                      # 300 runs
//	go test -tags soak -run TestSoak ./cmd/chat/ -soak.runs 20 -soak.burners 1     # CI's short form
//
// Each run is a real moonchat process in a pseudo-terminal (so the markdown renderer runs)
// reading an answer whose bytes arrive in random pieces at a random pace, split anywhere,
// inside multi-byte characters too. Burner processes load the CPU meanwhile. A run fails when
// it outlives its server's last byte by more than --timeout (it is then sent SIGQUIT, so the
// failure shows every goroutine's stack), when it does not exit 0, or when its CPU or wall
// time is over 5× the median of all runs.
var (
	soakRuns    = flag.Int("soak.runs", 300, "soak: number of runs")
	soakBurners = flag.Int("soak.burners", 2, "soak: CPU-burning processes running beside")
	soakTimeout = flag.Duration("soak.timeout", 20*time.Second, "soak: moonchat's --timeout; a run may outlive its server by this much")
	soakSeed    = flag.Uint64("soak.seed", 0, "soak: seed of the first run (0: from the clock); run i uses seed+i")
)

// soakDocument is a CJK-heavy markdown answer of about 6 KB: headings, lists, a table, a
// quote and a code block, the shapes the renderer commits differently.
func soakDocument(r *rand.Rand) string {
	cjk := []string{"月の光が静かに降り注ぐ", "中文字符的渲染测试", "한국어 문장도 섞어서", "全角スペースと　句読点、。", "絵文字🌕も少し", "混合 mixed テキスト text"}
	var b strings.Builder
	for s := range 6 {
		fmt.Fprintf(&b, "## 第%d章 %s\n\n", s+1, cjk[r.IntN(len(cjk))])
		for range 3 {
			for range 4 + r.IntN(6) {
				b.WriteString(cjk[r.IntN(len(cjk))])
				b.WriteString(" ")
			}
			b.WriteString("\n\n")
		}
		b.WriteString("- 項目一 **太字** と `コード`\n- 項目二 *斜体*\n  - 入れ子の項目\n\n")
		b.WriteString("| 列A | 列B |\n|---|---|\n| 値一 | 値二 |\n| 長い値の例 | 短 |\n\n")
		b.WriteString("> 引用された一文、そして続き。\n\n")
		b.WriteString("```go\n// 注释\nfmt.Println(\"こんにちは\")\n```\n\n")
	}
	return b.String()
}

// soakServer streams one document per request, then notes when its last byte went out.
type soakServer struct {
	mu    sync.Mutex
	seed  uint64
	ended chan time.Time
}

func (s *soakServer) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	s.mu.Lock()
	r := rand.New(rand.NewPCG(s.seed, 12))
	ended := s.ended
	s.mu.Unlock()
	defer func() { ended <- time.Now() }()
	doc := []rune(soakDocument(r))
	var sse bytes.Buffer
	for i := 0; i < len(doc); {
		n := min(1+r.IntN(6), len(doc)-i)
		content, _ := json.Marshal(string(doc[i : i+n]))
		i += n
		fmt.Fprintf(&sse, `data: {"id":"soak","object":"chat.completion.chunk","created":1,"model":"kimi-k2-turbo-preview","choices":[{"index":0,"delta":{"content":%s},"finish_reason":null}]}`+"\n\n", content)
	}
	sse.WriteString(`data: {"id":"soak","object":"chat.completion.chunk","created":1,"model":"kimi-k2-turbo-preview","choices":[{"index":0,"delta":{},"finish_reason":"stop","usage":{"prompt_tokens":5,"completion_tokens":900,"total_tokens":905}}]}` + "\n\ndata: [DONE]\n\n")
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	data := sse.Bytes()
	// Random pieces, cut at any byte: inside a multi-byte character, a JSON string, a line end.
	for len(data) > 0 {
		n := min(1+r.IntN(200), len(data))
		if _, err := w.Write(data[:n]); err != nil {
			return
		}
		if rc.Flush() != nil {
			return
		}
		data = data[n:]
		if r.IntN(4) == 0 {
			time.Sleep(time.Duration(r.IntN(3000)) * time.Microsecond) // the pace of a model
		}
	}
}

type soakRun struct {
	seed      uint64
	cpu, wall time.Duration
}

func TestSoak(t *testing.T) {
	isolated(t)
	srv := &soakServer{}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	t.Setenv("MOONSHOT_API_BASE", ts.URL+"/v1")

	for range *soakBurners {
		burn := exec.Command("sh", "-c", "while :; do :; done")
		if err := burn.Start(); err != nil {
			t.Fatalf("starting a CPU burner (sh): %v", err)
		}
		defer func() { burn.Process.Kill(); burn.Wait() }()
	}

	seed := *soakSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun one with -soak.seed N -soak.runs 1)", seed)
	var runs []soakRun
	for i := range *soakRuns {
		run, ok := soakOnce(t, srv, seed+uint64(i))
		if !ok {
			return
		}
		runs = append(runs, run)
	}
	median := func(get func(soakRun) time.Duration) time.Duration {
		v := make([]time.Duration, len(runs))
		for i, r := range runs {
			v[i] = get(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	cpu := median(func(r soakRun) time.Duration { return r.cpu })
	wall := median(func(r soakRun) time.Duration { return r.wall })
	var maxCPU, maxWall time.Duration
	for _, r := range runs {
		maxCPU, maxWall = max(maxCPU, r.cpu), max(maxWall, r.wall)
		if r.cpu > 5*cpu || r.wall > 5*wall {
			t.Errorf("seed %d: cpu %v, wall %v; the medians are %v and %v", r.seed, r.cpu, r.wall, cpu, wall)
		}
	}
	t.Logf("%d runs, %d burners: cpu median %v max %v, wall median %v max %v", len(runs), *soakBurners, cpu, maxCPU, wall, maxWall)
}

// soakOnce runs one answer; false means the soak must stop (the failure is reported).
func soakOnce(t *testing.T, srv *soakServer, seed uint64) (soakRun, bool) {
	ended := make(chan time.Time, 1)
	srv.mu.Lock()
	srv.seed, srv.ended = seed, ended
	srv.mu.Unlock()

	proc := moonchat("chat", "--no-save", "-m", "kimi-k2-turbo-preview", "--timeout", soakTimeout.String(), "write")
	proc.Env = append(proc.Env, "TERM=xterm-256color", "NO_COLOR=", "CLICOLOR_FORCE=", "GLAMOUR_STYLE=dark", "COLORFGBG=")
	start := time.Now()
	f, err := pty.StartWithSize(proc, &pty.Winsize{Rows: 40, Cols: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	drained := make(chan struct{})
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := f.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				close(drained)
				return
			}
		}
	}()
	exited := make(chan error, 1)
	go func() { exited <- proc.Wait() }()

	// Watchdog: the process may outlive its server's last byte by --timeout at most. The
	// server's own end is bounded too: a client that stops reading stalls its writes.
	var deadline <-chan time.Time
	serverLimit := time.NewTimer(5 * time.Minute)
	defer serverLimit.Stop()
	for {
		select {
		case err := <-exited:
			wall := time.Since(start)
			<-drained
			if err != nil {
				t.Errorf("seed %d: %v; output tail:\n%s", seed, err, tail(out.String()))
				return soakRun{}, false
			}
			st := proc.ProcessState
			return soakRun{seed: seed, cpu: st.UserTime() + st.SystemTime(), wall: wall}, true
		case end := <-ended:
			deadline = time.After(time.Until(end.Add(*soakTimeout + time.Second)))
		case <-deadline:
			stuck(t, proc, exited, drained, &out, fmt.Sprintf("seed %d: moonchat outlived its server by more than --timeout %v", seed, *soakTimeout))
			return soakRun{}, false
		case <-serverLimit.C:
			stuck(t, proc, exited, drained, &out, fmt.Sprintf("seed %d: the answer was not read within 5 minutes", seed))
			return soakRun{}, false
		}
	}
}

// stuck gets every goroutine's stack from a process that hangs, then kills it.
func stuck(t *testing.T, proc *exec.Cmd, exited <-chan error, drained <-chan struct{}, out *bytes.Buffer, msg string) {
	_ = proc.Process.Signal(syscall.SIGQUIT)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = proc.Process.Kill()
		<-exited
	}
	<-drained
	t.Errorf("%s; output tail and stacks:\n%s", msg, tail(out.String()))
}

func tail(s string) string {
	if len(s) > 64<<10 {
		return s[len(s)-64<<10:]
	}
	return s
}
