// Package suggest finds the known name a user most likely meant when they typed one that is not
// known: the "did you mean" of unknown subcommands, config keys and proxy config keys. One rule
// everywhere, so a typo that is caught in one place is caught in all.
package suggest

import "strings"

// Closest returns the known name nearest to typed, or "" when none is near enough to be a typo.
// Case does not matter. A name typed in full is returned as it is known; a prefix of exactly one
// known name (two letters or more) finds it ("ed" finds "edit"); otherwise the name at the
// smallest edit distance wins, ties going to the earlier one, if the distance is at most about
// one edit per three letters of the known name (1 to 3), so "modle" finds "model" and "x" finds
// nothing.
func Closest(typed string, known []string) string {
	t := strings.ToLower(strings.TrimSpace(typed))
	if t == "" {
		return ""
	}
	prefixed, prefixes := "", 0
	for _, k := range known {
		lk := strings.ToLower(k)
		if lk == t {
			return k
		}
		if len(t) >= 2 && strings.HasPrefix(lk, t) {
			prefixed, prefixes = k, prefixes+1
		}
	}
	if prefixes == 1 {
		return prefixed
	}
	best, bestDist := "", 0
	for _, k := range known {
		d := Distance(t, strings.ToLower(k))
		limit := max(1, min(3, len([]rune(k))/3))
		if d <= limit && (best == "" || d < bestDist) {
			best, bestDist = k, d
		}
	}
	return best
}

// Distance is the optimal string alignment distance between a and b, in runes: Levenshtein's
// insertions, deletions and substitutions plus the swap of two neighbouring letters, the
// commonest typo, each counting as one edit.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
