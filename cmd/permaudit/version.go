package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/permaudit/permaudit/model"
)

// version is permaudit's version. A release sets it with
// -ldflags "-X main.version=v1.2.3" (.goreleaser.yaml); any other build
// leaves it empty and init fills it from the build information, so that
// `go install ...@v1.2.3` reports v1.2.3 and a build of a checkout reports
// its commit. The run records it as tool.version.
var version string

func init() {
	info, _ := debug.ReadBuildInfo()
	version = resolveVersion(version, info)
}

// resolveVersion returns the version a build reports: the one set at link
// time, else the main module's version (a tagged `go install`, or the
// pseudo-version the go command stamps from a checkout since Go 1.24),
// else the VCS revision and whether the tree was modified, else "devel".
func resolveVersion(linked string, info *debug.BuildInfo) string {
	if linked != "" {
		return linked
	}
	if info == nil {
		return "devel"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev string
	var dirty bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	v := "devel+" + rev
	if dirty {
		v += ".dirty"
	}
	return v
}

// writeVersion prints what `permaudit version` and `permaudit --version`
// say: the version, the run schema this build writes and reads, and the
// Go that built it.
func writeVersion(w io.Writer) error {
	_, err := fmt.Fprintf(w, "permaudit %s\nrun schema: %s\ngo: %s %s/%s\n",
		version, model.SchemaVersion, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}

func newVersionCmd(io ioStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print permaudit's version, run schema and Go version",
		Long: `Print permaudit's version, the run schema it writes and reads, and the Go
release and platform that built it. A release binary reports its release
tag; a build from a checkout reports the commit, marked dirty when the tree
had changes. The same text is printed by 'permaudit --version'.`,
		Example: "  permaudit version\n  permaudit --version",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return writeVersion(io.Out)
		},
	}
}

// versionTemplate is cobra's --version output; it matches `permaudit
// version`, with the values filled in now (the template has no access to
// them).
func versionTemplate() string {
	var b strings.Builder
	_ = writeVersion(&b)
	return strings.ReplaceAll(b.String(), "{{", "{{`{{`}}")
}
