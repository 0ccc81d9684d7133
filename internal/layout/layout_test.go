package layout

import (
	"bytes"
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const mod = "github.com/permaudit/permaudit"

// pkg is what go list says of one package of the module.
type pkg struct {
	ImportPath string
	Imports    []string // of the package itself, tests excluded
}

func packages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", mod+"/...")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("go list: %v\n%s", err, errb.String())
	}
	var ps []pkg
	dec := json.NewDecoder(&out)
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		ps = append(ps, p)
	}
	if len(ps) < 10 {
		t.Fatalf("go list found %d packages of %s; is the test run inside the module?", len(ps), mod)
	}
	return ps
}

// rel is a package's path inside the module ("crawl", "cmd/permaudit").
func rel(path string) string { return strings.TrimPrefix(strings.TrimPrefix(path, mod), "/") }

// ours reports whether path is a package of this module.
func ours(path string) bool { return path == mod || strings.HasPrefix(path, mod+"/") }

// under reports whether p is dir or a package below it.
func under(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }

// A rule says that the packages it covers must not import what it forbids.
type rule struct {
	why     string
	covers  func(p string) bool      // the importing package (module-relative)
	forbids func(imp string) bool    // the imported path (full)
	except  func(p, imp string) bool // allowed despite the rule; nil: none
}

var rules = []rule{
	{
		why:     "model is the neutral vocabulary: it imports nothing of ours",
		covers:  func(p string) bool { return p == "model" },
		forbids: ours,
	},
	{
		why:     "only the command imports cobra",
		covers:  func(p string) bool { return !under(p, "cmd") },
		forbids: func(imp string) bool { return strings.HasPrefix(imp, "github.com/spf13/cobra") },
	},
	{
		why:     "only crawl imports colly",
		covers:  func(p string) bool { return p != "crawl" },
		forbids: func(imp string) bool { return strings.HasPrefix(imp, "github.com/gocolly/colly") },
	},
	{
		why:     "only the session owner runs sign-in flows (x/oauth2, os/exec)",
		covers:  func(p string) bool { return p != "session" },
		forbids: func(imp string) bool { return strings.HasPrefix(imp, "golang.org/x/oauth2") || imp == "os/exec" },
		// browsertest starts Chromium for the HTML report's tests; it is
		// imported by tests only (TestBrowserTestIsForTestsOnly).
		except: func(p, imp string) bool { return p == "internal/browsertest" && imp == "os/exec" },
	},
	{
		why:    "roles is the policy, without HTTP: it imports no net/http, and of ours only the vocabulary and the YAML walker",
		covers: func(p string) bool { return p == "roles" },
		forbids: func(imp string) bool {
			return imp == "net/http" || strings.HasPrefix(imp, "net/http/") || ours(imp) && imp != mod+"/model" && imp != mod+"/internal/yamlwalk"
		},
	},
	{
		why:    "judging, rendering and learning read a run: they import neither crawl nor the session owner",
		covers: func(p string) bool { return p == "judge" || p == "report" || p == "learn" },
		forbids: func(imp string) bool {
			return under(rel(imp), "crawl") && ours(imp) || imp == mod+"/session" || imp == mod+"/audit"
		},
	},
	{
		why: "the demo application is a stand-in for a real one: it imports nothing of ours",
		covers: func(p string) bool {
			return p == "internal/demoapp" || p == "internal/authapp" || p == "internal/trapapp"
		},
		forbids: ours,
	},
	{
		why:     "nothing imports the command",
		covers:  func(string) bool { return true },
		forbids: func(imp string) bool { return under(rel(imp), "cmd") && ours(imp) },
	},
}

// TestImportArrows fails when a package imports what docs/design.md
// ("Packages") forbids it.
func TestImportArrows(t *testing.T) {
	for _, p := range packages(t) {
		path := rel(p.ImportPath)
		for _, r := range rules {
			if !r.covers(path) {
				continue
			}
			for _, imp := range p.Imports {
				if r.forbids(imp) && (r.except == nil || !r.except(path, imp)) {
					t.Errorf("%s imports %s: %s", p.ImportPath, imp, r.why)
				}
			}
		}
	}
}

// TestBrowserTestIsForTestsOnly: internal/browsertest may run a program
// because no package of the tool imports it.
func TestBrowserTestIsForTestsOnly(t *testing.T) {
	for _, p := range packages(t) {
		if slices.Contains(p.Imports, mod+"/internal/browsertest") {
			t.Errorf("%s imports internal/browsertest, which runs Chromium: only tests may", p.ImportPath)
		}
	}
}

// TestRulesBite checks the rules against imports that break them, so
// that a rule that can no longer fail is noticed.
func TestRulesBite(t *testing.T) {
	for _, tc := range []struct{ from, imp string }{
		{"model", mod + "/roles"},
		{"report", "github.com/spf13/cobra"},
		{"report", "github.com/gocolly/colly/v2"},
		{"crawl", "golang.org/x/oauth2"},
		{"audit", "os/exec"},
		{"roles", "net/http"},
		{"roles", mod + "/judge"},
		{"judge", mod + "/crawl"},
		{"report", mod + "/session"},
		{"internal/demoapp", mod + "/model"},
		{"crawl", mod + "/cmd/permaudit"},
	} {
		broken := false
		for _, r := range rules {
			if r.covers(tc.from) && r.forbids(tc.imp) && (r.except == nil || !r.except(tc.from, tc.imp)) {
				broken = true
			}
		}
		if !broken {
			t.Errorf("%s importing %s breaks no rule", tc.from, tc.imp)
		}
	}
}
