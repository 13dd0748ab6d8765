package serve

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/internal/syncbuf"
	"github.com/moonchat/moonchat/pkg/iostreams"
	"github.com/moonchat/moonchat/pkg/redistest"
)

// serveProcessEnv makes the test binary, started again, run `serve` with these arguments
// (separated by newlines) until its standard input closes: a server in a process of its own.
const serveProcessEnv = "MOONCHAT_TEST_SERVE_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(serveProcessEnv); args != "" {
		os.Exit(serveProcess(strings.Split(args, "\n")))
	}
	os.Exit(m.Run())
}

func serveProcess(args []string) int {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	ios, _, _, _ := iostreams.Test()
	ios.ErrOut = os.Stderr
	cmd := NewCmdServe(cli.New(ios), nil)
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	if err := cmd.ExecuteContext(ctx); err != nil {
		return 1
	}
	return 0
}

// startProcess runs `serve` in a process of its own and returns its URL and its log so far.
func startProcess(t *testing.T, args ...string) (url string, log *syncbuf.Buffer) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), serveProcessEnv+"="+strings.Join(append([]string{"--port", "0"}, args...), "\n"))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	log = &syncbuf.Buffer{}
	done := make(chan struct{})
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		_, _ = log.Write([]byte(sc.Text() + "\n"))
		if _, rest, ok := strings.Cut(sc.Text(), "msg=listening url="); ok {
			url, _, _ = strings.Cut(rest, " ")
			break
		}
	}
	go func() {
		defer close(done)
		for sc.Scan() {
			_, _ = log.Write([]byte(sc.Text() + "\n"))
		}
	}()
	t.Cleanup(func() {
		stdin.Close()
		<-done
		if err := cmd.Wait(); err != nil {
			t.Errorf("serve process: %v\n%s", err, log)
		}
	})
	if url == "" {
		t.Fatalf("serve did not start:\n%s", log)
	}
	return url, log
}

func TestTwoServeProcessesShareOneRedis(t *testing.T) {
	isolate(t)
	rs := redistest.Start(t)
	host, port := rs.HostPort()
	cfgFile := filepath.Join(t.TempDir(), "config.yaml")
	config := "model_list:\n  - model_name: kimi\n    litellm_params:\n      model: moonshot/kimi-k2.6\n      rpm: 2\n" +
		"router_settings:\n  redis_host: " + host + "\n  redis_port: " + port + "\n"
	if err := os.WriteFile(cfgFile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	one, oneLog := startProcess(t, "--offline", "--config", cfgFile)
	two, twoLog := startProcess(t, "--offline", "--config", cfgFile)
	post := func(url string) int {
		resp, err := http.Post(url+"/v1/chat/completions", "application/json", strings.NewReader(`{"model":"kimi","messages":[{"role":"user","content":"hi"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// rpm 2 between both servers. A minute may end between the requests, and the budget
	// starts again: of six, at most four pass.
	var codes []int
	refused := 0
	for _, url := range []string{one, two, one, two, one, two} {
		c := post(url)
		codes = append(codes, c)
		if c == 429 {
			refused++
		}
	}
	if refused < 2 {
		t.Fatalf("statuses %v: two servers sharing Redis let more than rpm 2 through", codes)
	}
	for _, log := range []string{oneLog.String(), twoLog.String()} {
		if !strings.Contains(log, `msg="shared state" where="redis `+rs.Addr+`"`) {
			t.Fatalf("start-up log does not name the Redis:\n%s", log)
		}
	}
}
