package main_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// retiredIDs matches any id the model table marks retired, as a whole word.
func retiredIDs(t *testing.T) *regexp.Regexp {
	t.Helper()
	var alt []string
	for _, m := range moonshot.KnownModels() {
		if m.Retired != nil {
			alt = append(alt, regexp.QuoteMeta(m.ID))
		}
	}
	if len(alt) == 0 {
		t.Fatal("the table marks no model retired")
	}
	return regexp.MustCompile(`(^|[^\w.-])(` + strings.Join(alt, "|") + `)($|[^\w.-])`)
}

// TestNoDefaultNamesARetiredModel: the default model, auto_models, the examples of every
// command's help, the README's code blocks and examples/ name current models only.
func TestNoDefaultNamesARetiredModel(t *testing.T) {
	re := retiredIDs(t)
	check := func(where, text string) {
		if m := re.FindStringSubmatch(text); m != nil {
			t.Errorf("%s names the retired model %s", where, m[2])
		}
	}
	check("moonshot.DefaultModel", moonshot.DefaultModel)
	check("config.DefaultAutoModels", config.DefaultAutoModels)
	for _, k := range config.Keys() {
		check("the default of config key "+k.Name, k.Default)
	}
	for _, c := range visible(newRoot(t)) {
		check("the examples of `"+c.CommandPath()+"`", c.Example)
	}
	doc := readme(t)
	for i, block := range strings.Split(doc, "```")[1:] {
		if i%2 == 0 { // inside a fence
			check("a README code block", block)
		}
	}
	ci, err := os.ReadFile("../../examples/ci.sh")
	if err != nil {
		t.Fatal(err)
	}
	check("examples/ci.sh", string(ci))
}
