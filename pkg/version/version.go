// Package version says which build of hms is running: the release version
// stamped at release time, and the commit, its date and the Go version that
// Go records in every binary built from a checkout.
//
// A release build stamps the version with
//
//	go build -ldflags '-X github.com/hms-toolkit/hms/pkg/version.release=0.3.0'
//
// A plain 'go build' in a checkout still tells the commit (with "+dirty"
// when the tree had changes), and 'go install …@v0.3.0' the module version.
package version

import (
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
)

// release is set at link time by scripts/release.sh.
var release string

// Info is what is known of the running build.
type Info struct {
	Version   string // "0.3.0", or "devel" for an unreleased build
	Commit    string // short hash, "+dirty" when built from a modified tree; "" if unknown
	Date      string // commit date, YYYY-MM-DD; "" if unknown
	GoVersion string // "go1.26.8"
}

var read = sync.OnceValue(func() Info { return fromBuildInfo(release, debug.ReadBuildInfo) })

// Get returns the build information of the running binary.
func Get() Info { return read() }

func fromBuildInfo(stamped string, readBuildInfo func() (*debug.BuildInfo, bool)) Info {
	in := Info{Version: strings.TrimPrefix(stamped, "v")}
	bi, ok := readBuildInfo()
	if !ok {
		if in.Version == "" {
			in.Version = "devel"
		}
		return in
	}
	in.GoVersion = bi.GoVersion
	if in.Version == "" {
		in.Version = "devel"
		if v := bi.Main.Version; isRelease(v) {
			in.Version = strings.TrimPrefix(v, "v")
		}
	}
	var modified bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			in.Commit = s.Value[:min(7, len(s.Value))]
		case "vcs.time":
			in.Date, _, _ = strings.Cut(s.Value, "T")
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if in.Commit != "" && modified {
		in.Commit += "+dirty"
	}
	return in
}

// pseudoVersion matches the version Go gives a build of a commit that no
// release tag names (v0.0.0-20261201085400-5574ff844467): the commit says
// more, so such a build is "devel".
var pseudoVersion = regexp.MustCompile(`-(0\.)?[0-9]{14}-[0-9a-f]{12}(\+dirty)?$`)

// isRelease reports whether v, a module version from the build
// information, names a release (go install …@v0.3.0).
func isRelease(v string) bool {
	return v != "" && v != "(devel)" && !strings.HasSuffix(v, "+dirty") && !pseudoVersion.MatchString(v)
}

// String is the one-line version: "0.3.0 (a1b2c3d, 2026-12-01, go1.26.8)".
func (in Info) String() string {
	var extra []string
	for _, s := range []string{in.Commit, in.Date, in.GoVersion} {
		if s != "" {
			extra = append(extra, s)
		}
	}
	if len(extra) == 0 {
		return in.Version
	}
	return in.Version + " (" + strings.Join(extra, ", ") + ")"
}

// Line is what '--version' prints for program name:
// "hms-recv 0.3.0 (a1b2c3d, 2026-12-01, go1.26.8)".
func Line(name string) string { return name + " " + Get().String() }

// Short is the version and commit without spaces, for places that name a
// client to a server (AMQP connection properties, the MongoDB app name):
// "0.3.0+a1b2c3d".
func Short() string {
	in := Get()
	if in.Commit == "" {
		return in.Version
	}
	return in.Version + "+" + in.Commit
}
