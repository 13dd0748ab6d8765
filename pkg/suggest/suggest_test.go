package suggest

import (
	"fmt"
	"testing"
)

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"", "abc", 3}, {"abc", "", 3}, {"model", "model", 0},
		{"modle", "model", 1}, {"lsit", "list", 1}, {"temprature", "temperature", 1},
		{"kitten", "sitting", 3}, {"num_retry", "num_retries", 3}, {"模型", "模形", 1},
		{"ca", "abc", 3}, // optimal string alignment: no edit of a swapped pair
	} {
		if got := Distance(c.a, c.b); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := Distance(c.b, c.a); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d (symmetric)", c.b, c.a, got, c.want)
		}
	}
}

func TestClosest(t *testing.T) {
	cmds := []string{"edit", "get", "list", "path", "set", "unset"}
	keys := []string{"model", "max_tokens", "max_retries", "wrap", "num_retries", "model_list"}
	for _, c := range []struct {
		typed string
		known []string
		want  string
	}{
		{"lsit", cmds, "list"}, {"gte", cmds, "get"}, {"ed", cmds, "edit"}, {"lst", cmds, "list"},
		{"LIST", cmds, "list"}, {"history", cmds, ""}, {"e", cmds, ""}, {"", cmds, ""},
		{"se", cmds, "set"}, // a prefix of one name only
		{"modle", keys, "model"}, {"wrapp", keys, "wrap"}, {"num_retry", keys, "num_retries"},
		{"max", keys, ""}, // a prefix of two names is no suggestion
		{"model_lst", keys, "model_list"}, {"x", keys, ""}, {"zzzzzzzz", keys, ""},
	} {
		if got := Closest(c.typed, c.known); got != c.want {
			t.Errorf("Closest(%q) = %q, want %q", c.typed, got, c.want)
		}
	}
}

func ExampleClosest() {
	keys := []string{"model", "max_tokens", "temperature"}
	fmt.Println(Closest("temprature", keys))
	fmt.Println(Closest("modle", keys))
	fmt.Printf("%q\n", Closest("colour", keys))
	// Output:
	// temperature
	// model
	// ""
}
