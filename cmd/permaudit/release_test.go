package main

import (
	"bytes"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// goModToolchain returns the Go release go.mod's toolchain line names
// ("go1.26.10"), the one CI, releases and the container build with.
func goModToolchain(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^toolchain (go1\.\d+\.\d+)$`).FindSubmatch(data)
	if m == nil {
		t.Fatal("go.mod has no toolchain line")
	}
	return string(m[1])
}

// goreleaserConfig is the part of GoReleaser's v2 configuration that
// .goreleaser.yaml uses; decoding rejects any other key, so a misspelt
// key fails here rather than being ignored by GoReleaser.
type goreleaserConfig struct {
	Version     int    `yaml:"version"`
	ProjectName string `yaml:"project_name"`
	Before      struct {
		Hooks []string `yaml:"hooks"`
	} `yaml:"before"`
	Builds []struct {
		ID           string   `yaml:"id"`
		Main         string   `yaml:"main"`
		Binary       string   `yaml:"binary"`
		Env          []string `yaml:"env"`
		Goos         []string `yaml:"goos"`
		Goarch       []string `yaml:"goarch"`
		Flags        []string `yaml:"flags"`
		Ldflags      []string `yaml:"ldflags"`
		ModTimestamp string   `yaml:"mod_timestamp"`
	} `yaml:"builds"`
	Archives []struct {
		ID              string   `yaml:"id"`
		IDs             []string `yaml:"ids"`
		Formats         []string `yaml:"formats"`
		FormatOverrides []struct {
			Goos    string   `yaml:"goos"`
			Formats []string `yaml:"formats"`
		} `yaml:"format_overrides"`
		NameTemplate string   `yaml:"name_template"`
		Files        []string `yaml:"files"`
	} `yaml:"archives"`
	Checksum struct {
		NameTemplate string `yaml:"name_template"`
		Algorithm    string `yaml:"algorithm"`
	} `yaml:"checksum"`
	Snapshot struct {
		VersionTemplate string `yaml:"version_template"`
	} `yaml:"snapshot"`
	Changelog struct {
		Sort string `yaml:"sort"`
	} `yaml:"changelog"`
}

// TestGoReleaserConfig checks .goreleaser.yaml's structure, GoReleaser
// not being installable here: every platform, checksums, reproducible
// flags, and the version linked where version.go expects it.
func TestGoReleaserConfig(t *testing.T) {
	data, err := os.ReadFile("../../.goreleaser.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c goreleaserConfig
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	if c.Version != 2 {
		t.Errorf("version: %d, want 2 (GoReleaser v2)", c.Version)
	}
	if len(c.Builds) != 1 {
		t.Fatalf("%d builds, want 1", len(c.Builds))
	}
	b := c.Builds[0]
	if b.Main != "./cmd/permaudit" || b.Binary != "permaudit" {
		t.Errorf("builds main %q binary %q, want ./cmd/permaudit and permaudit", b.Main, b.Binary)
	}
	sorted := func(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }
	if got := sorted(b.Goos); !slices.Equal(got, []string{"darwin", "linux", "windows"}) {
		t.Errorf("goos %v, want darwin, linux, windows", got)
	}
	if got := sorted(b.Goarch); !slices.Equal(got, []string{"amd64", "arm64"}) {
		t.Errorf("goarch %v, want amd64, arm64", got)
	}
	for _, want := range []string{"CGO_ENABLED=0", "GOTOOLCHAIN=" + goModToolchain(t)} {
		if !slices.Contains(b.Env, want) {
			t.Errorf("build env %v lacks %s", b.Env, want)
		}
	}
	for _, want := range []string{"-trimpath", "-buildvcs=false"} {
		if !slices.Contains(b.Flags, want) {
			t.Errorf("build flags %v lack %s (reproducible builds)", b.Flags, want)
		}
	}
	if ld := strings.Join(b.Ldflags, " "); !strings.Contains(ld, "-X main.version={{ .Version }}") {
		t.Errorf("ldflags %q do not set main.version", ld)
	}
	if b.ModTimestamp != "{{ .CommitTimestamp }}" {
		t.Errorf("mod_timestamp %q, want the commit's time", b.ModTimestamp)
	}
	if len(c.Archives) == 0 {
		t.Fatal("no archives")
	}
	for _, f := range c.Archives[0].Files {
		if _, err := os.Stat("../../" + f); err != nil {
			t.Errorf("archive file %s: %v", f, err)
		}
	}
	if c.Checksum.NameTemplate == "" || c.Checksum.Algorithm != "sha256" {
		t.Errorf("checksum %+v, want a file of SHA-256 sums", c.Checksum)
	}

	// .ci/run's reproducibility step must build as the release does.
	ci, err := os.ReadFile("../../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range append(slices.Clone(b.Flags), "CGO_ENABLED=0", `-X main.version=`) {
		if !strings.Contains(string(ci), want) {
			t.Errorf(".ci/run's release build lacks %s", want)
		}
	}
}

// TestDockerfile checks the container definition's structure, no
// container engine running here: multi-stage, a static binary built with
// go.mod's toolchain, a distroless or scratch base with CA certificates,
// a non-root user.
func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var froms []string
	var user string
	var lines []string
	for _, line := range strings.Split(strings.ReplaceAll(string(data), "\\\n", " "), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		lines = append(lines, line)
		instr, rest, _ := strings.Cut(line, " ")
		switch strings.ToUpper(instr) {
		case "FROM":
			froms = append(froms, rest)
		case "USER":
			user = rest
		}
	}
	text := strings.Join(lines, "\n")
	if len(froms) < 2 {
		t.Fatalf("FROM %v: want a build stage and an image stage", froms)
	}
	tc := strings.TrimPrefix(goModToolchain(t), "go")
	if !strings.HasPrefix(froms[0], "golang:"+tc+"-") && !strings.HasPrefix(froms[0], "golang:"+tc+" ") {
		t.Errorf("build stage FROM %q, want golang:%s (go.mod's toolchain)", froms[0], tc)
	}
	final := froms[len(froms)-1]
	switch {
	case strings.HasPrefix(final, "gcr.io/distroless/static"):
		// distroless/static carries /etc/ssl/certs/ca-certificates.crt
	case final == "scratch":
		if !strings.Contains(text, "ca-certificates.crt") {
			t.Errorf("a scratch image needs CA certificates copied in")
		}
	default:
		t.Errorf("image stage FROM %q, want distroless/static or scratch", final)
	}
	if user == "" || user == "root" || strings.HasPrefix(user, "0") {
		t.Errorf("USER %q, want a non-root user", user)
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-X main.version=", "COPY --from=build", "ENTRYPOINT"} {
		if !strings.Contains(text, want) {
			t.Errorf("Dockerfile lacks %s", want)
		}
	}
}
