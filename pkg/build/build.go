// Package build reports the version of the running binary.
//
// Release builds set Version, Commit and Date through -ldflags -X (see .goreleaser.yaml).
// A plain `go install` sets none of them, so Get falls back to the module and VCS information
// that the Go toolchain embeds in every binary.
package build

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
)

// Set at link time: -X github.com/moonchat/moonchat/pkg/build.Version=v1.2.3 and so on.
var (
	Version = ""
	Commit  = ""
	Date    = ""
)

// Info describes the binary.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Date      string `json:"date"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
}

// Get returns the version information, filling what the linker did not set from the build info.
func Get() Info { return get() }

// get parses the build info once: it lists every module of the binary, and a start asks for the
// version more than once (the root command's --version, the User-Agent).
var get = sync.OnceValue(func() Info {
	info := Info{Version: Version, Commit: Commit, Date: Date, GoVersion: runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		fillFromBuildInfo(&info, bi)
	}
	if info.Version == "" {
		info.Version = "dev"
	}
	return info
})

func fillFromBuildInfo(info *Info, bi *debug.BuildInfo) {
	if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		info.Version = strings.TrimPrefix(bi.Main.Version, "v")
	}
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if info.Commit == "" {
				info.Commit = s.Value
			}
		case "vcs.time":
			if info.Date == "" {
				info.Date = s.Value
			}
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if modified && info.Commit != "" && !strings.HasSuffix(info.Commit, "-dirty") {
		info.Commit += "-dirty"
	}
}

// Short is the version alone, as sent in the User-Agent.
func Short() string { return Get().Version }

// String is the multi-line text that `moonchat version` prints.
func (i Info) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "moonchat %s\n", i.Version)
	if i.Commit != "" {
		fmt.Fprintf(&b, "commit:  %s\n", i.Commit)
	}
	if i.Date != "" {
		fmt.Fprintf(&b, "built:   %s\n", i.Date)
	}
	fmt.Fprintf(&b, "go:      %s %s\n", i.GoVersion, i.Platform)
	return b.String()
}
