package cmd

import (
	"testing"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/iostreams"
)

// BenchmarkNewCmdRoot measures building the command tree, which every start does before
// even --version can print (bench/wholeprocess.sh measures the whole process):
//
//	go test -run '^$' -bench NewCmdRoot ./cmd
func BenchmarkNewCmdRoot(b *testing.B) {
	ios, _, _, _ := iostreams.Test()
	b.ReportAllocs()
	for b.Loop() {
		NewCmdRoot(cli.New(ios))
	}
}
