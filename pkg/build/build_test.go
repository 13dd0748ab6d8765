package build

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestLinkerValuesWin(t *testing.T) {
	info := Info{Version: "1.2.3", Commit: "abc", Date: "2026-01-02"}
	fillFromBuildInfo(&info, &debug.BuildInfo{Main: debug.Module{Version: "v9.9.9"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "zzz"}, {Key: "vcs.time", Value: "x"}}})
	if info.Version != "1.2.3" || info.Commit != "abc" || info.Date != "2026-01-02" {
		t.Fatalf("linker values overwritten: %+v", info)
	}
}

func TestBuildInfoFallback(t *testing.T) {
	var info Info
	fillFromBuildInfo(&info, &debug.BuildInfo{Main: debug.Module{Version: "v0.4.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "deadbeef"},
			{Key: "vcs.time", Value: "2026-11-01T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}})
	if info.Version != "0.4.0" || info.Commit != "deadbeef-dirty" || info.Date != "2026-11-01T10:00:00Z" {
		t.Fatalf("fallback not applied: %+v", info)
	}
}

func TestDevelIsNotAVersion(t *testing.T) {
	var info Info
	fillFromBuildInfo(&info, &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}})
	if info.Version != "" {
		t.Fatalf("(devel) taken as version: %q", info.Version)
	}
	if got := Get().String(); !strings.HasPrefix(got, "moonchat ") || !strings.Contains(got, "go:") {
		t.Fatalf("String() = %q", got)
	}
}
