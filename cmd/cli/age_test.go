package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func TestParseAge(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"30d": 30 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "12h": 12 * time.Hour, "90m": 90 * time.Minute,
		"1.5d": 36 * time.Hour, "1h30m": 90 * time.Minute, "2s": 2 * time.Second, " 7d ": 7 * 24 * time.Hour,
		"0d": 0, "5200w": 5200 * 7 * 24 * time.Hour,
	} {
		if got, err := ParseAge(in); err != nil || got != want {
			t.Errorf("ParseAge(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "30", "d", "w", "-1d", "-3d", "xd", "soon", "NaNd", "Infd", "1e300d", "5300w", "3y", "-5m"} {
		got, err := ParseAge(in)
		if err == nil {
			t.Errorf("ParseAge(%q) = %v, want an error", in, got)
		} else if want := `"` + in + `" is not an age`; !strings.HasPrefix(err.Error(), want) {
			t.Errorf("ParseAge(%q) error = %q, want it to start with %q", in, err, want)
		}
	}
}

func TestAgeValue(t *testing.T) {
	var older time.Duration
	fl := pflag.NewFlagSet("test", pflag.ContinueOnError)
	fl.Var(AgeValue(&older), "older-than", "`AGE`")
	if got := fl.Lookup("older-than").DefValue; got != "" {
		t.Errorf("default shown as %q, want nothing", got)
	}
	if err := fl.Parse([]string{"--older-than", "2w"}); err != nil {
		t.Fatal(err)
	}
	if older != 14*24*time.Hour {
		t.Errorf("--older-than 2w stored %v", older)
	}
	if got := fl.Lookup("older-than").Value.String(); got != "336h0m0s" {
		t.Errorf("String() = %q", got)
	}
	if got := fl.Lookup("older-than").Value.Type(); got != "age" {
		t.Errorf("Type() = %q", got)
	}
	before := older
	if err := fl.Set("older-than", "soon"); err == nil || older != before {
		t.Errorf("a bad age was taken: err %v, value %v", err, older)
	}
}
