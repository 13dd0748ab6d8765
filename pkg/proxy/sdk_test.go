package proxy

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go"
	"github.com/openai/openai-go/option"

	"github.com/moonchat/moonchat/pkg/emulator"
)

// The official Go OpenAI SDK is the client here: what works for it works for the code teams
// point at the proxy.

func sdkClient(t *testing.T, p *testProxy, key string) openai.Client {
	t.Helper()
	for _, v := range []string{"OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"} {
		t.Setenv(v, "")
	}
	return openai.NewClient(option.WithBaseURL(p.srv.URL+"/v1/"), option.WithAPIKey(key),
		option.WithMaxRetries(0), option.WithHTTPClient(p.srv.Client()))
}

func sdkProxy(t *testing.T) (*testProxy, *emulator.Server) {
	up := startUpstream(t, emulator.Config{Reply: func(r *emulator.ChatRequest) emulator.Reply {
		return emulator.Reply{Content: "You said: " + r.LastUserText(), Reasoning: "a short thought"}
	}})
	cfg := &Config{MasterKey: masterKey, Deployments: []Deployment{
		deploy("kimi-k2.6", "kimi-k2.6", up),
		deploy("kimi-k2-turbo-preview", "kimi-k2-turbo-preview", up),
	}}
	return startProxy(t, cfg, Options{}), up
}

func TestSDKChat(t *testing.T) {
	p, up := sdkProxy(t)
	client := sdkClient(t, p, masterKey)
	var httpResp *http.Response
	resp, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model:       "kimi-k2-turbo-preview",
		Messages:    []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Be brief."), openai.UserMessage("hello from the SDK")},
		Temperature: openai.Float(1.5),
	}, option.WithResponseInto(&httpResp))
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Choices[0].Message.Content; got != "You said: hello from the SDK" {
		t.Fatalf("content %q", got)
	}
	if resp.Model != "kimi-k2-turbo-preview" || resp.Usage.TotalTokens == 0 || resp.Choices[0].FinishReason != "stop" {
		t.Fatalf("%+v", resp)
	}
	if h := httpResp.Header.Get("X-Moonchat-Adjustments"); !strings.HasPrefix(h, "temperature 1.5 -> 1") {
		t.Fatalf("adjustments header %q", h)
	}
	if got := up.ChatBodies()[0]["temperature"]; got != 1.0 {
		t.Fatalf("upstream temperature %v", got)
	}
}

func TestSDKStream(t *testing.T) {
	p, _ := sdkProxy(t)
	client := sdkClient(t, p, masterKey)
	stream := client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model:         "kimi-k2.6",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("stream this")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	var acc openai.ChatCompletionAccumulator
	var reasoning, content strings.Builder
	chunks := 0
	for stream.Next() {
		chunk := stream.Current()
		acc.AddChunk(chunk)
		chunks++
		if len(chunk.Choices) > 0 {
			content.WriteString(chunk.Choices[0].Delta.Content)
			// Moonshot's reasoning_content is kept; the SDK exposes it as an extra field.
			if f, ok := chunk.Choices[0].Delta.JSON.ExtraFields["reasoning_content"]; ok {
				reasoning.WriteString(strings.Trim(f.Raw(), `"`))
			}
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if content.String() != "You said: stream this" || acc.Choices[0].Message.Content != content.String() {
		t.Fatalf("content %q / %q", content.String(), acc.Choices[0].Message.Content)
	}
	if reasoning.String() != "a short thought" {
		t.Fatalf("reasoning %q", reasoning.String())
	}
	if chunks < 4 || acc.Usage.TotalTokens == 0 || acc.Usage.CompletionTokens == 0 {
		t.Fatalf("%d chunks, usage %+v", chunks, acc.Usage)
	}
}

func TestSDKStreamError(t *testing.T) {
	p, up := sdkProxy(t)
	up.Inject(emulator.Fault{Kind: emulator.StreamError, AfterChunks: 2})
	client := sdkClient(t, p, masterKey)
	stream := client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model:    "kimi-k2-turbo-preview",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("x")},
	})
	for stream.Next() {
	}
	if err := stream.Err(); err == nil || !strings.Contains(err.Error(), "server_error") {
		t.Fatalf("stream error %v", err)
	}
}

func TestSDKModels(t *testing.T) {
	p, _ := sdkProxy(t)
	client := sdkClient(t, p, masterKey)
	page, err := client.Models.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range page.Data {
		ids = append(ids, m.ID)
		if m.OwnedBy != "moonshot" || m.Object != "model" || m.Created == 0 {
			t.Errorf("%+v", m)
		}
	}
	if strings.Join(ids, ",") != "kimi-k2.6,kimi-k2-turbo-preview" {
		t.Fatalf("ids %v", ids)
	}
	m, err := client.Models.Get(context.Background(), "kimi-k2.6")
	if err != nil || m.ID != "kimi-k2.6" {
		t.Fatalf("%v %+v", err, m)
	}
}

func TestSDKErrors(t *testing.T) {
	p, _ := sdkProxy(t)
	params := openai.ChatCompletionNewParams{Model: "kimi-k2.6", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("x")}}

	wrong := sdkClient(t, p, "sk-not-the-key")
	_, err := wrong.Chat.Completions.New(context.Background(), params)
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 || apiErr.Code != "invalid_api_key" || apiErr.Type != "invalid_request_error" {
		t.Fatalf("wrong key: %v", err)
	}

	params.Model = "gpt-4o"
	right := sdkClient(t, p, masterKey)
	_, err = right.Chat.Completions.New(context.Background(), params)
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Code != "model_not_found" || apiErr.Param != "model" {
		t.Fatalf("unknown model: %v", err)
	}
}
