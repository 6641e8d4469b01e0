package version

import (
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	bi := func(main string, settings ...string) func() (*debug.BuildInfo, bool) {
		return func() (*debug.BuildInfo, bool) {
			b := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: main}}
			for i := 0; i+1 < len(settings); i += 2 {
				b.Settings = append(b.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
			}
			return b, true
		}
	}
	vcs := []string{"vcs.revision", "a1b2c3d4e5f60718293a", "vcs.time", "2026-12-01T08:00:00Z", "vcs.modified", "false"}
	dirty := []string{"vcs.revision", "a1b2c3d4e5f60718293a", "vcs.time", "2026-12-01T08:00:00Z", "vcs.modified", "true"}
	for _, tc := range []struct {
		name    string
		stamped string
		read    func() (*debug.BuildInfo, bool)
		want    string
	}{
		{"release", "0.3.0", bi("(devel)", vcs...), "0.3.0 (a1b2c3d, 2026-12-01, go1.26.8)"},
		{"release with v", "v0.3.0", bi("(devel)", vcs...), "0.3.0 (a1b2c3d, 2026-12-01, go1.26.8)"},
		{"checkout", "", bi("(devel)", vcs...), "devel (a1b2c3d, 2026-12-01, go1.26.8)"},
		{"dirty checkout", "", bi("v0.0.0-20261201080000-a1b2c3d4e5f6+dirty", dirty...), "devel (a1b2c3d+dirty, 2026-12-01, go1.26.8)"},
		{"go install @version", "", bi("v0.3.0"), "0.3.0 (go1.26.8)"},
		{"clean checkout (pseudo-version)", "", bi("v0.0.0-20261201085400-5574ff844467", vcs...), "devel (a1b2c3d, 2026-12-01, go1.26.8)"},
		{"pseudo-version after a tag", "", bi("v0.3.1-0.20261201085400-5574ff844467", vcs...), "devel (a1b2c3d, 2026-12-01, go1.26.8)"},
		{"no build info", "", func() (*debug.BuildInfo, bool) { return nil, false }, "devel"},
	} {
		if got := fromBuildInfo(tc.stamped, tc.read).String(); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestLine(t *testing.T) {
	if got := Line("hms-x"); len(got) < len("hms-x ") || got[:6] != "hms-x " {
		t.Fatalf("Line: %q", got)
	}
}
