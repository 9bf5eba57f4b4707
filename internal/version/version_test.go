package version

import (
	"runtime/debug"
	"testing"
)

func TestOf(t *testing.T) {
	info := func(kv ...string) *debug.BuildInfo {
		b := &debug.BuildInfo{}
		for i := 0; i+1 < len(kv); i += 2 {
			b.Settings = append(b.Settings, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return b
	}
	for _, tc := range []struct {
		info *debug.BuildInfo
		want string
	}{
		{info("vcs", "git", "vcs.revision", "ec144970a1b2c3d4e5f60718293a4b5c6d7e8f90", "vcs.time", "2026-12-07T11:07:27Z", "vcs.modified", "false"),
			"ec144970a1b2 (2026-12-07 11:07:27Z)"},
		{info("vcs.revision", "ec144970a1b2c3d4e5f6", "vcs.modified", "true"), "ec144970a1b2-dirty"},
		{info("-trimpath", "true"), "unknown (no version information in this build: neither -ldflags -X " + setName + " nor a commit recorded by go build)"},
		{nil, "unknown (no version information in this build: neither -ldflags -X " + setName + " nor a commit recorded by go build)"},
	} {
		if got := Of(tc.info); got != tc.want {
			t.Errorf("Of(%v) = %q, want %q", tc.info, got, tc.want)
		}
	}
}
