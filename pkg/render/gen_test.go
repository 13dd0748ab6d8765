package render

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// genDoc returns a deterministic markdown document of about size bytes shaped like a long
// model answer: headings, paragraphs with inline markup, tight and loose lists (numbered
// ones that continue across blank lines, items with nested code), nested lists, tables,
// block quotes, code in several languages (with multi-line strings), Chinese text and emoji.
// It ends after a complete block.
func genDoc(size int, seed uint64) string {
	g := &docGen{r: rand.New(rand.NewPCG(seed, seed^0x5eed))}
	g.b.Grow(size + 4096)
	g.b.WriteString("# " + g.title() + "\n\n")
	g.paragraph()
	for sec := 1; g.b.Len() < size; sec++ {
		g.section(sec, size)
	}
	return strings.TrimRight(g.b.String(), "\n") + "\n"
}

type docGen struct {
	r *rand.Rand
	b strings.Builder
}

func (g *docGen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

var (
	genTopics = []string{"connection pooling", "request retries", "streaming responses", "token accounting",
		"configuration loading", "terminal rendering", "error handling", "rate limiting",
		"context cancellation", "structured logging", "graceful shutdown", "caching layers"}
	genNouns = []string{"client", "server", "buffer", "request", "response", "stream", "handler", "parser",
		"renderer", "session", "token", "chunk", "deadline", "worker", "queue", "config", "cache",
		"socket", "timeout", "payload", "schema", "pipeline", "terminal", "model"}
	genVerbs = []string{"returns", "allocates", "parses", "flushes", "retries", "renders", "validates",
		"buffers", "streams", "closes", "wraps", "reads", "writes", "caches", "cancels", "reuses"}
	genAdjs = []string{"incremental", "bounded", "idempotent", "concurrent", "lazy", "expensive", "cheap",
		"robust", "naive", "efficient", "stateless", "blocking", "partial", "deterministic"}
	genCJK = []string{"流式输出需要逐块处理，否则终端会闪烁。", "每个代码块只渲染一次。",
		"模型的回答通常很长，必须保持线性时间。", "注意：表格和列表只有在结束后才能提交。",
		"你好，世界！这是一个测试。", "缓存可以显著降低延迟。"}
	genEmoji = []string{" ✅", " 🚀", " ⚠️", " 👍🏽", " 🎉", " ✨"}
)

func (g *docGen) title() string {
	t := g.pick(genTopics)
	return strings.ToUpper(t[:1]) + t[1:] + " in a " + g.pick(genAdjs) + " " + g.pick(genNouns)
}

func (g *docGen) word() string {
	switch g.r.IntN(12) {
	case 0:
		return "`" + g.pick(genNouns) + "." + g.pick(genVerbs) + "()`"
	case 1:
		return "**" + g.pick(genAdjs) + "**"
	case 2:
		return "*" + g.pick(genNouns) + "*"
	case 3, 4:
		return g.pick(genAdjs)
	case 5:
		return g.pick(genVerbs)
	default:
		return g.pick(genNouns)
	}
}

func (g *docGen) sentence() string {
	var s strings.Builder
	s.WriteString("The ")
	s.WriteString(g.pick(genAdjs) + " " + g.pick(genNouns) + " " + g.pick(genVerbs) + " the")
	for n := 4 + g.r.IntN(10); n > 0; n-- {
		s.WriteString(" " + g.word())
	}
	if g.r.IntN(10) == 0 {
		fmt.Fprintf(&s, " (see [the %s docs](https://example.com/docs/%s))", g.pick(genNouns), g.pick(genNouns))
	}
	s.WriteString(".")
	switch g.r.IntN(12) {
	case 0:
		s.WriteString(" " + g.pick(genCJK))
	case 1:
		s.WriteString(g.pick(genEmoji))
	}
	return s.String()
}

func (g *docGen) paragraph() {
	if g.r.IntN(8) == 0 {
		for n := 2 + g.r.IntN(4); n > 0; n-- {
			g.b.WriteString(g.pick(genCJK))
		}
		g.b.WriteString("\n\n")
		return
	}
	for n := 2 + g.r.IntN(5); n > 0; n-- {
		g.b.WriteString(g.sentence())
		if n > 1 {
			g.b.WriteString(" ")
		}
	}
	g.b.WriteString("\n\n")
}

func (g *docGen) bullets() {
	for n := 3 + g.r.IntN(5); n > 0; n-- {
		g.b.WriteString("- ")
		if g.r.IntN(3) == 0 {
			g.b.WriteString("**" + g.pick(genNouns) + "**: ")
		}
		g.b.WriteString(g.sentence() + "\n")
		if g.r.IntN(5) == 0 {
			for k := 1 + g.r.IntN(3); k > 0; k-- {
				g.b.WriteString("  - " + g.pick(genAdjs) + " " + g.pick(genNouns) + " " + g.word() + "\n")
			}
		}
	}
	g.b.WriteString("\n")
}

// steps is a loose numbered list: items separated by blank lines, some with an indented
// paragraph or code block, the way models write step-by-step answers.
func (g *docGen) steps() {
	for i := 1; i <= 3+g.r.IntN(4); i++ {
		fmt.Fprintf(&g.b, "%d. **%s the %s.** %s\n", i, strings.ToUpper(g.pick(genVerbs)[:1])+g.pick(genVerbs)[1:], g.pick(genNouns), g.sentence())
		switch g.r.IntN(4) {
		case 0:
			g.b.WriteString("\n   " + g.sentence() + "\n")
		case 1:
			g.b.WriteString("\n   ```bash\n   " + g.shellLine() + "\n   " + g.shellLine() + "\n   ```\n")
		}
		g.b.WriteString("\n")
	}
}

func (g *docGen) table() {
	cols := 3 + g.r.IntN(2)
	head := []string{"Option", "Default", "Effect", "Cost"}[:cols]
	g.b.WriteString("| " + strings.Join(head, " | ") + " |\n|" + strings.Repeat(" --- |", cols) + "\n")
	for n := 3 + g.r.IntN(5); n > 0; n-- {
		cells := []string{
			"`" + g.pick(genNouns) + "-" + g.pick(genNouns) + "`",
			fmt.Sprint(g.r.IntN(1000)),
			g.pick(genAdjs) + " " + g.pick(genNouns) + " " + g.pick(genVerbs),
			fmt.Sprintf("%d.%d ms", g.r.IntN(50), g.r.IntN(10)),
		}[:cols]
		if g.r.IntN(6) == 0 {
			cells[cols-1] = "约 " + cells[cols-1]
		}
		g.b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	g.b.WriteString("\n")
}

func (g *docGen) quote() {
	g.b.WriteString("> **Note:** " + g.sentence() + "\n> " + g.sentence() + "\n")
	if g.r.IntN(2) == 0 {
		g.b.WriteString(g.sentence() + "\n") // lazy continuation
	}
	g.b.WriteString("\n")
}

func (g *docGen) shellLine() string {
	switch g.r.IntN(3) {
	case 0:
		return fmt.Sprintf("export %s_%s=\"${%s:-%d}\"", strings.ToUpper(g.pick(genNouns)), strings.ToUpper(g.pick(genNouns)), strings.ToUpper(g.pick(genNouns)), g.r.IntN(100))
	case 1:
		return fmt.Sprintf("curl -sS \"$BASE_URL/v1/%ss\" | jq '.data[].id'", g.pick(genNouns))
	}
	return fmt.Sprintf("go test -run %s ./pkg/%s/...", strings.ToUpper(g.pick(genNouns)[:1])+g.pick(genNouns)[1:], g.pick(genNouns))
}

func (g *docGen) code() {
	switch g.r.IntN(6) {
	case 0, 1:
		g.b.WriteString("```go\n")
		fn := strings.ToUpper(g.pick(genVerbs)[:1]) + g.pick(genVerbs)[1:]
		fmt.Fprintf(&g.b, "// %s %s the %s %s.\nfunc (c *Client) %s(ctx context.Context, in []byte) (int, error) {\n", fn, g.pick(genVerbs), g.pick(genAdjs), g.pick(genNouns), fn)
		for n := 3 + g.r.IntN(8); n > 0; n-- {
			switch g.r.IntN(4) {
			case 0:
				fmt.Fprintf(&g.b, "\tif err := c.%s.Flush(ctx); err != nil {\n\t\treturn 0, fmt.Errorf(\"%s: %%w\", err)\n\t}\n", g.pick(genNouns), g.pick(genVerbs))
			case 1:
				fmt.Fprintf(&g.b, "\tbuf := make([]byte, 0, %d) // %s\n", 64<<g.r.IntN(6), g.pick(genAdjs))
			case 2:
				g.b.WriteString("\tselect {\n\tcase <-ctx.Done():\n\t\treturn 0, ctx.Err()\n\tcase v := <-c.results:\n\t\t_ = v\n\t}\n")
			default:
				fmt.Fprintf(&g.b, "\tc.%s = time.Now().Add(%d * time.Millisecond)\n", g.pick(genNouns), 10*g.r.IntN(100))
			}
		}
		fmt.Fprintf(&g.b, "\treturn %d, nil\n}\n```\n\n", g.r.IntN(100))
	case 2:
		g.b.WriteString("```python\n")
		fmt.Fprintf(&g.b, "def %s_%s(%s, timeout: float = %d.0) -> dict:\n", g.pick(genVerbs), g.pick(genNouns), g.pick(genNouns), 1+g.r.IntN(30))
		if g.r.IntN(2) == 0 {
			fmt.Fprintf(&g.b, "    \"\"\"%s the %s.\n\n    Returns a dict; raises on timeout.\n    \"\"\"\n", strings.ToUpper(g.pick(genVerbs)[:1])+g.pick(genVerbs)[1:], g.pick(genNouns))
		}
		for n := 3 + g.r.IntN(6); n > 0; n-- {
			switch g.r.IntN(3) {
			case 0:
				fmt.Fprintf(&g.b, "    for %s in %ss.items():\n        if not %s:\n            continue\n", g.pick(genNouns), g.pick(genNouns), g.pick(genNouns))
			case 1:
				fmt.Fprintf(&g.b, "    %s = {\"%s\": %d, \"name\": \"%s\"}\n", g.pick(genNouns), g.pick(genNouns), g.r.IntN(500), g.pick(genAdjs))
			default:
				fmt.Fprintf(&g.b, "    logger.info(\"%s %%s\", %s)  # %s\n", g.pick(genVerbs), g.pick(genNouns), g.pick(genAdjs))
			}
		}
		fmt.Fprintf(&g.b, "    return {\"status\": \"%s\"}\n```\n\n", g.pick(genAdjs))
	case 3:
		g.b.WriteString("```bash\n#!/usr/bin/env bash\nset -euo pipefail\n\n")
		for n := 3 + g.r.IntN(6); n > 0; n-- {
			g.b.WriteString(g.shellLine() + "\n")
		}
		g.b.WriteString("```\n\n")
	case 4:
		g.b.WriteString("```json\n{\n")
		for n := 2 + g.r.IntN(5); n > 0; n-- {
			fmt.Fprintf(&g.b, "  \"%s\": {\"%s\": %d, \"enabled\": %v},\n", g.pick(genNouns), g.pick(genNouns), g.r.IntN(1000), g.r.IntN(2) == 0)
		}
		g.b.WriteString("  \"version\": 2\n}\n```\n\n")
	default:
		g.b.WriteString("```typescript\n")
		fmt.Fprintf(&g.b, "export async function %s(url: string): Promise<number> {\n", g.pick(genVerbs))
		for n := 2 + g.r.IntN(5); n > 0; n-- {
			fmt.Fprintf(&g.b, "  const %s = await fetch(`${url}/%s`, { method: \"POST\" });\n", g.pick(genNouns), g.pick(genNouns))
		}
		g.b.WriteString("  return 0;\n}\n```\n\n")
	}
}

func (g *docGen) section(n, size int) {
	fmt.Fprintf(&g.b, "## %d. %s\n\n", n, g.title())
	g.paragraph()
	for k := 3 + g.r.IntN(4); k > 0 && g.b.Len() < size; k-- {
		switch g.r.IntN(11) {
		case 0, 1:
			g.paragraph()
		case 2:
			g.bullets()
		case 3:
			g.steps()
		case 4:
			g.table()
		case 5:
			g.quote()
		case 6:
			fmt.Fprintf(&g.b, "### %s %s\n\n", strings.ToUpper(g.pick(genAdjs)[:1])+g.pick(genAdjs)[1:], g.pick(genNouns))
			g.paragraph()
		default:
			g.code()
		}
	}
	if g.r.IntN(5) == 0 {
		g.b.WriteString("---\n\n")
	}
}
