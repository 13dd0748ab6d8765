package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// maxAge bounds the days and weeks an age may have, so that converting them to a Duration
// cannot overflow; time.ParseDuration guards the other units itself.
const maxAge = 100 * 365 * 24 * time.Hour

// ParseAge reads an age as people give one: 30d, 2w, 1.5d, 12h, 90m, or anything
// time.ParseDuration takes (1h30m). Negative ages, NaN and infinities are refused.
func ParseAge(s string) (time.Duration, error) {
	bad := fmt.Errorf("%q is not an age: use a number and a unit, m, h, d or w (e.g. 30d, 12h, 2w)", s)
	s = strings.TrimSpace(s)
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.ParseFloat(n, 64)
			// Written so that NaN fails the test too.
			if err != nil || !(v >= 0 && v*float64(unit) <= float64(maxAge)) {
				return 0, bad
			}
			return time.Duration(v * float64(unit)), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, bad
	}
	return d, nil
}

// AgeValue is a flag value that stores an age, read by ParseAge, in *p:
// fl.Var(cli.AgeValue(&opts.OlderThan), "older-than", "...").
func AgeValue(p *time.Duration) pflag.Value { return (*ageValue)(p) }

type ageValue time.Duration

func (a *ageValue) String() string {
	if *a == 0 {
		return "" // no "(default 0s)" in the help
	}
	return time.Duration(*a).String()
}

func (a *ageValue) Type() string { return "age" }

func (a *ageValue) Set(s string) error {
	d, err := ParseAge(s)
	if err != nil {
		return err
	}
	*a = ageValue(d)
	return nil
}
