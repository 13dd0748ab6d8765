package render

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

// The README's benchmark figures are the output of the command it gives: every metric it shows
// is one the benchmark reports, every benchmark it names exists, every row of its table is a
// sub-benchmark of BenchmarkMarkdown, and every figure of the results table is a number in its
// column.
func TestREADMEFiguresComeFromTheBenchmark(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	bench, err := os.ReadFile("bench_test.go")
	if err != nil {
		t.Fatal(err)
	}
	doc, src := string(readme), string(bench)
	units := map[string]bool{}
	for _, m := range regexp.MustCompile(`ReportMetric\([^,]+, "([^"]+)"\)`).FindAllStringSubmatch(src, -1) {
		units[m[1]] = true
	}
	if len(units) == 0 {
		t.Fatal("bench_test.go reports no metric")
	}
	if !strings.Contains(doc, "go test -run '^$' -bench . -count 5 ./pkg/render") {
		t.Error("README does not give the command its figures come from")
	}
	for _, name := range regexp.MustCompile(`\bBenchmark[A-Z]\w*`).FindAllString(doc, -1) {
		if !strings.Contains(src, "func "+name+"(") {
			t.Errorf("README names %s, which bench_test.go does not have", name)
		}
	}
	// The metric table: each metric is a unit the benchmark reports.
	for _, m := range regexp.MustCompile(`(?m)^\| ([a-z-]+) \| [^|]+ \|$`).FindAllStringSubmatch(doc, -1) {
		if m[1] != "metric" && !units[m[1]] {
			t.Errorf("README's metric %q is not reported by the benchmark (it reports %v)", m[1], units)
		}
	}
	// The results table.
	header := regexp.MustCompile(`(?m)^\| mode \| size \|(.*)\|$`).FindStringSubmatch(doc)
	if header == nil {
		t.Fatal("README has no results table")
	}
	var cols []string
	for _, h := range strings.Split(header[1], "|") {
		col := strings.Fields(h)[0]
		if !units[col] {
			t.Errorf("results column %q is not a reported metric", col)
		}
		cols = append(cols, col)
	}
	subs := map[string]bool{}
	for _, mode := range []string{"burst", "paced"} {
		for _, kb := range benchSizes {
			subs[fmt.Sprintf("%s/%dKB", mode, kb)] = true
		}
	}
	number := regexp.MustCompile(`^[0-9]+(\.[0-9]+)?( \([0-9.]+(–[0-9.]+)?\))?$`)
	rows := regexp.MustCompile(`(?m)^\| (burst|paced) \| ([0-9]+) KB \|(.*)\|$`).FindAllStringSubmatch(doc, -1)
	if len(rows) != len(subs) {
		t.Errorf("results table has %d rows, the benchmark %d sub-benchmarks", len(rows), len(subs))
	}
	for _, r := range rows {
		if !subs[r[1]+"/"+r[2]+"KB"] {
			t.Errorf("results row %s %s KB is no sub-benchmark of BenchmarkMarkdown", r[1], r[2])
		}
		cells := strings.Split(r[3], "|")
		if len(cells) != len(cols) {
			t.Errorf("results row %s %s KB has %d figures for %d columns", r[1], r[2], len(cells), len(cols))
			continue
		}
		for i, c := range cells {
			if !number.MatchString(strings.TrimSpace(c)) {
				t.Errorf("results row %s %s KB, %s: %q is not a figure", r[1], r[2], cols[i], strings.TrimSpace(c))
			}
		}
	}
}
