// Package version names the build of a binary of this project, for
// --version and so for bug reports: the release or the commit.
package version

import (
	"runtime/debug"
	"strings"
)

// Set is the build's name when the build gave one: the Makefile passes
// -ldflags "-X github.com/minispawn/minispawn/internal/version.Set=$(git
// describe --always --dirty)", a release tag or a commit ("v0.4.0",
// "v0.4.0-3-gec14497-dirty", "ec14497").
var Set string

// String names this build: Set when the build gave it, else Of the build
// information Go embedded.
func String() string {
	if Set != "" {
		return Set
	}
	info, _ := debug.ReadBuildInfo()
	return Of(info)
}

// Of names a build by its build information (nil for none): the commit
// that Go recorded when it built from a git checkout (go build does, unless
// -buildvcs=false), its first 12 hex digits, "-dirty" when the tree had
// changes, and the commit's time. Without one it says that the build
// carries no version at all, rather than make one up.
func Of(info *debug.BuildInfo) string {
	settings := map[string]string{}
	if info != nil {
		for _, s := range info.Settings {
			settings[s.Key] = s.Value
		}
	}
	rev := settings["vcs.revision"]
	if rev == "" {
		return "unknown (no version information in this build: neither -ldflags -X " + setName + " nor a commit recorded by go build)"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if settings["vcs.modified"] == "true" {
		rev += "-dirty"
	}
	if t := settings["vcs.time"]; t != "" {
		rev += " (" + strings.Replace(t, "T", " ", 1) + ")"
	}
	return rev
}

// setName is Set's name for -ldflags -X.
const setName = "github.com/minispawn/minispawn/internal/version.Set"
