// Command minimal is the yardstick for moonchat's piped chat: the least a Go client can do to
// print a streamed answer — one POST, bufio line reading, one encoding/json decode per event,
// content written to a buffered stdout. bench/wholeprocess.sh compares moonchat with it.
// It is not shipped and has no error handling beyond what a measurement needs.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
)

func main() {
	base := strings.TrimRight(os.Getenv("MOONSHOT_API_BASE"), "/")
	body := `{"model":"kimi-k2-turbo-preview","stream":true,"messages":[{"role":"user","content":"` +
		strings.Join(os.Args[1:], " ") + `"}]}`
	req, err := http.NewRequest("POST", base+"/chat/completions", strings.NewReader(body))
	if err != nil {
		fail(err)
	}
	req.Header.Set("Authorization", "Bearer "+os.Getenv("MOONSHOT_API_KEY"))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fail(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fail(fmt.Errorf("status %s", resp.Status))
	}
	out := bufio.NewWriterSize(os.Stdout, 32<<10)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 8<<20)
	var chunk struct {
		Choices []struct {
			Delta struct {
				Content string `json:"content"`
			} `json:"delta"`
		} `json:"choices"`
	}
	for sc.Scan() {
		line, ok := bytes.CutPrefix(sc.Bytes(), []byte("data: "))
		if !ok {
			continue
		}
		if bytes.Equal(line, []byte("[DONE]")) {
			break
		}
		chunk.Choices = chunk.Choices[:0]
		if err := json.Unmarshal(line, &chunk); err != nil {
			fail(err)
		}
		for _, c := range chunk.Choices {
			out.WriteString(c.Delta.Content)
		}
	}
	if err := sc.Err(); err != nil {
		fail(err)
	}
	if err := out.Flush(); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "minimal:", err)
	os.Exit(1)
}
