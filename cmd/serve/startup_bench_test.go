package serve

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkStartup starts the real binary, `moonchat serve --offline` with a config of 50
// deployments (10 model names of 5 each), and measures the time from the process start to its
// "listening" log line, after which it answers GET /health/readiness; then the resident memory
// of the idle server. The binary is built once, before the clock starts:
//
//	go test -run '^$' -bench Startup -benchtime 20x ./cmd/serve
func BenchmarkStartup(b *testing.B) {
	dir := b.TempDir()
	bin := filepath.Join(b.TempDir(), "moonchat") // not in dir: XDG_CONFIG_HOME/moonchat is a directory
	// As the release is built (.goreleaser.yaml): without cgo, stripped.
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "github.com/moonchat/moonchat")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		b.Fatal(err)
	}
	var cfg strings.Builder
	cfg.WriteString("model_list:\n")
	models := []string{"kimi-k2.6", "kimi-k2-turbo-preview", "moonshot-v1-8k", "moonshot-v1-32k", "moonshot-v1-128k"}
	for i := range 50 {
		fmt.Fprintf(&cfg, "  - model_name: team-%d\n    litellm_params:\n      model: moonshot/%s\n      rpm: 600\n      timeout: 120\n", i/5, models[i%len(models)])
	}
	cfg.WriteString("litellm_settings:\n  num_retries: 2\nrouter_settings:\n  fallbacks: [{team-0: [team-1]}]\n")
	cfgFile := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgFile, []byte(cfg.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	env := append(os.Environ(), "XDG_CONFIG_HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CACHE_HOME="+dir, "MOONCHAT_CONFIG=")
	var times []time.Duration
	var idleRSS, idleAnon []float64
	b.ResetTimer()
	for range b.N {
		cmd := exec.Command(bin, "serve", "--offline", "--config", cfgFile, "--port", "0", "--models-refresh", "0")
		cmd.Env = env
		stderr, err := cmd.StderrPipe()
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(stderr)
		url := ""
		var log []string
		for sc.Scan() {
			log = append(log, sc.Text())
			if _, rest, ok := strings.Cut(sc.Text(), "msg=listening url="); ok {
				url, _, _ = strings.Cut(rest, " ")
				break
			}
		}
		ready := time.Since(start)
		if url == "" {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			b.Fatalf("serve did not start:\n%s", strings.Join(log, "\n"))
		}
		go func() {
			for sc.Scan() { // drain the log
			}
		}()
		resp, err := http.Get(url + "/health/readiness")
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("readiness: %v", err)
		}
		resp.Body.Close()
		times = append(times, ready)
		b.StopTimer()
		rss, anon := rssMB(cmd.Process.Pid)
		idleRSS, idleAnon = append(idleRSS, rss), append(idleAnon, anon)
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			b.Fatalf("serve did not stop cleanly: %v", err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(times)
	slices.Sort(idleRSS)
	slices.Sort(idleAnon)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(times[len(times)/2]), "ready-p50-ms")
	b.ReportMetric(ms(times[len(times)-1]), "ready-max-ms")
	b.ReportMetric(idleRSS[len(idleRSS)/2], "idle-rss-MB")
	b.ReportMetric(idleAnon[len(idleAnon)/2], "idle-anon-MB")
}

// rssMB reads a process's resident set size from /proc, and its anonymous part (the rest is
// the binary's pages, shared and clean); 0 where there is no /proc.
func rssMB(pid int) (rss, anon float64) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	kb := func(v string) float64 {
		f, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		return f / 1024
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			rss = kb(v)
		} else if v, ok := strings.CutPrefix(line, "RssAnon:"); ok {
			anon = kb(v)
		}
	}
	return rss, anon
}
