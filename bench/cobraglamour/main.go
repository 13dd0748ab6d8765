// Command cobraglamour is the start-up yardstick for moonchat: a binary that links only cobra and
// glamour (moonchat's two heaviest start-up dependencies) and answers --version.
// bench/wholeprocess.sh compares `moonchat --version` and `moonchat chat --offline` with it.
package main

import "github.com/moonchat/moonchat/bench/yardstick"

func main() { yardstick.Main("cobraglamour") }
