package report

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/permaudit/permaudit/judge"
	"github.com/permaudit/permaudit/judge/judgetest"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// shopRun judges Shop(...) with the shared test matrix into a complete
// run.
func shopRun(t *testing.T, leak, code, hide bool) *model.Run {
	t.Helper()
	run := judgetest.ShopRun()
	judge.Judge(run, parseConfig(t, testConfig), shop(leak, code, hide))
	return run
}

func parseBaselineText(t *testing.T, text string) *Baseline {
	t.Helper()
	b, err := ParseBaseline("baseline.yaml", []byte(text))
	if err != nil {
		t.Fatalf("parse baseline: %v\n%s", err, text)
	}
	return b
}

func TestWriteBaselineRoundTrip(t *testing.T) {
	run := shopRun(t, true, true, true)
	var buf bytes.Buffer
	if err := WriteBaseline(&buf, run, BaselineOptions{Reason: "known: ACME-1", Expires: "2025-06-30"}); err != nil {
		t.Fatal(err)
	}
	golden(t, "baseline.yaml.golden", buf.Bytes())
	b := parseBaselineText(t, buf.String())
	// One entry per fingerprint: the leak covers two ids of one template.
	want := map[string]bool{}
	for _, f := range run.Findings {
		want[f.Fingerprint] = true
	}
	if len(b.Entries) != len(want) {
		t.Errorf("entries = %d, want %d (one per fingerprint)", len(b.Entries), len(want))
	}
	for _, e := range b.Entries {
		if !want[e.Fingerprint] || e.Reason != "known: ACME-1" || e.Expires != "2025-06-30" {
			t.Errorf("entry %+v: want a fingerprint of the run, its reason and expiry", e)
		}
	}
	// Every finding is accepted by the baseline written from its run.
	ApplyBaseline(run, b, time.Date(2025, 6, 30, 23, 59, 0, 0, time.UTC))
	if run.Gate.Failed || run.Baseline.Accepted != len(run.Findings) || run.Baseline.New != 0 {
		t.Errorf("gate %+v, baseline %+v: want every finding baselined and the gate passed", run.Gate, run.Baseline)
	}
	// Written again from that run, the entries keep their reason.
	buf.Reset()
	if err := WriteBaseline(&buf, run, BaselineOptions{Reason: "other"}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), `"other"`) || !strings.Contains(buf.String(), "expires: 2025-06-30") {
		t.Errorf("rewritten baseline lost the reasons or expiry:\n%s", buf.String())
	}
}

func TestWriteBaselineEmptyRun(t *testing.T) {
	run := shopRun(t, false, false, false)
	var buf bytes.Buffer
	if err := WriteBaseline(&buf, run, BaselineOptions{}); err != nil {
		t.Fatal(err)
	}
	if b := parseBaselineText(t, buf.String()); len(b.Entries) != 0 {
		t.Errorf("entries = %d, want 0", len(b.Entries))
	}
	if err := WriteBaseline(&buf, run, BaselineOptions{Expires: "soon"}); err == nil {
		t.Error("a bad expiry date was accepted")
	}
}

func TestApplyBaseline(t *testing.T) {
	old := shopRun(t, true, false, true) // leak and existence-leak
	var buf bytes.Buffer
	if err := WriteBaseline(&buf, old, BaselineOptions{Reason: "accepted"}); err != nil {
		t.Fatal(err)
	}
	leakFP, hideFP := "", ""
	for _, f := range old.Findings {
		switch f.Verdict {
		case model.Leak:
			leakFP = f.Fingerprint
		case model.ExistenceLeak:
			hideFP = f.Fingerprint
		}
	}
	// The existence leak's entry expires on 2025-04-30.
	text := strings.Replace(buf.String(), "  - fingerprint: "+hideFP+"\n", "  - fingerprint: "+hideFP+"\n    expires: 2025-04-30\n", 1)
	// An entry for a cell this run never probes (another method).
	text += "  - verdict: leak\n    template: \"POST /admin/users/{id}\"\n    role: customer\n    reason: posted\n"
	b := parseBaselineText(t, text)

	cases := []struct {
		name                  string
		leak, code, hide      bool
		now                   time.Time
		wantNew, wantAccepted int
		wantExpired           int
		wantFixed, wantUnseen int
		wantFailing           int
		state                 map[model.Verdict]string
	}{
		{"same findings", true, false, true, day(2025, 4, 30), 0, 4, 0, 0, 1, 0,
			map[model.Verdict]string{model.Leak: BaselineAccepted, model.ExistenceLeak: BaselineAccepted}},
		{"expired the next day", true, false, true, day(2025, 5, 1), 0, 2, 2, 0, 1, 2,
			map[model.Verdict]string{model.Leak: BaselineAccepted, model.ExistenceLeak: BaselineExpired}},
		{"new wrong-code, leak fixed", false, true, true, day(2025, 4, 1), 1, 2, 0, 1, 1, 0,
			map[model.Verdict]string{model.WrongCode: BaselineNew, model.ExistenceLeak: BaselineAccepted}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			run := shopRun(t, tc.leak, tc.code, tc.hide)
			ApplyBaseline(run, b, tc.now)
			r := run.Baseline
			if r == nil {
				t.Fatal("no baseline result in the run")
			}
			if r.New != tc.wantNew || r.Accepted != tc.wantAccepted || r.Expired != tc.wantExpired ||
				len(r.Fixed) != tc.wantFixed || len(r.Unseen) != tc.wantUnseen {
				t.Errorf("got new %d, baselined %d, expired %d, fixed %d, unseen %d; want %d, %d, %d, %d, %d",
					r.New, r.Accepted, r.Expired, len(r.Fixed), len(r.Unseen),
					tc.wantNew, tc.wantAccepted, tc.wantExpired, tc.wantFixed, tc.wantUnseen)
			}
			if run.Gate.Failing != tc.wantFailing || run.Gate.Failed != (tc.wantFailing > 0) {
				t.Errorf("gate = %+v, want %d failing", run.Gate, tc.wantFailing)
			}
			for _, f := range run.Findings {
				if want := tc.state[f.Verdict]; f.Baseline != want {
					t.Errorf("%s %s as %s: baseline state %q, want %q", f.Verdict, f.Path, f.Role, f.Baseline, want)
				}
				if f.Baseline != BaselineNew && f.BaselineReason != "accepted" {
					t.Errorf("%s %s: reason %q, want the entry's", f.Verdict, f.Path, f.BaselineReason)
				}
			}
			if tc.wantFixed == 1 && r.Fixed[0].Fingerprint != leakFP {
				t.Errorf("fixed = %+v, want the leak's entry", r.Fixed)
			}
			if len(r.Unseen) == 1 && r.Unseen[0].Template != "POST /admin/users/{id}" {
				t.Errorf("unseen = %+v, want the POST entry", r.Unseen)
			}
			// The text summary says what the baseline changed.
			var text bytes.Buffer
			if err := (textWriter{}).Write(&text, run); err != nil {
				t.Fatal(err)
			}
			head := fmt.Sprintf("baseline baseline.yaml: %d new, %d baselined, %d expired, %d fixed, 1 not probed\n",
				tc.wantNew, tc.wantAccepted, tc.wantExpired, tc.wantFixed)
			if !strings.Contains(text.String(), head) || !strings.Contains(text.String(), "not probed: leak POST /admin/users/{id} as customer (posted)") {
				t.Errorf("text summary does not say %q and the unprobed entry:\n%s", head, text.String())
			}
			if tc.wantFixed == 1 && !strings.Contains(text.String(), "fixed: leak GET /admin/users/{id} as customer (accepted)") {
				t.Errorf("text summary does not name the fixed entry:\n%s", text.String())
			}
		})
	}
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 12, 0, 0, 0, time.UTC) }

func TestParseBaselineErrors(t *testing.T) {
	fp := model.Fingerprint(model.Leak, "GET", "GET /admin/users/{id}", "customer")
	cases := []struct {
		name string
		text string
		want []string // "line:col: field: message part"
	}{
		{"empty", "", []string{"1:1: empty baseline"}},
		{"not yaml", "schema: [", []string{"1:1: invalid YAML"}},
		{"no schema", "findings: []\n", []string{"1:1: schema: required"}},
		{"other schema", "schema: permaudit.baseline/v9\n", []string{"1:9: schema: unsupported baseline schema"}},
		{"unknown field", "schema: permaudit.baseline/v1\nfinding: []\n", []string{"2:1: finding: unknown field"}},
		{"findings not a list", "schema: permaudit.baseline/v1\nfindings: {}\n", []string{"2:11: findings: must be a list"}},
		{"entry problems", `schema: permaudit.baseline/v1
findings:
  - fingerprint: ABC
    reason: x
  - verdict: pass
    template: "GET /x"
    role: admin
    reason: y
  - fingerprint: ` + fp + `
    expires: June
  - template: "/x"
    reason: z
  - fingerprint: ` + fp + `
    verdict: leak
    template: "GET /admin/users/{id}"
    role: admin
    reason: w
    color: red
`, []string{
			"3:18: findings[0].fingerprint: \"ABC\": want 32 lower-case hex",
			"5:14: findings[1].verdict: \"pass\" is not a finding verdict",
			"9:5: findings[2].reason: required",
			"10:14: findings[2].expires: \"June\": want a date",
			"11:5: findings[3]: give a fingerprint",
			"11:15: findings[3].template: \"/x\": want METHOD /path",
			"13:18: findings[4].fingerprint: does not match verdict, template and role",
			"18:5: findings[4].color: unknown field",
		}},
		{"duplicate", `schema: permaudit.baseline/v1
findings:
  - fingerprint: ` + fp + `
    reason: a
  - verdict: leak
    template: "GET /admin/users/{id}"
    role: customer
    reason: b
`, []string{"5:5: findings[1]: fingerprint " + fp + " is already listed at line 3"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseBaseline("b.yaml", []byte(tc.text))
			var ce roles.ConfigErrors
			if !errors.As(err, &ce) {
				t.Fatalf("error = %v, want roles.ConfigErrors", err)
			}
			if len(ce) != len(tc.want) {
				t.Errorf("got %d problems, want %d:\n%v", len(ce), len(tc.want), err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), "b.yaml:"+w) {
					t.Errorf("errors do not say %q:\n%v", "b.yaml:"+w, err)
				}
			}
		})
	}
}

// baselineAliasBomb nests aliases nine deep: expanded, its findings
// would hold 387 million strings.
const baselineAliasBomb = `schema: permaudit.baseline/v1
findings:
  - &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]
  - &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
  - &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
  - &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
  - &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
  - &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
  - &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
  - &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
  - &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
`

func TestParseBaselineAliases(t *testing.T) {
	cases := []struct{ name, text, want string }{
		// Refused before any walk, at the alias that passes the bound.
		{"bomb", baselineAliasBomb, "b.yaml:7:9: findings[4][0]: aliases expand to more than"},
		{"cycle", "schema: permaudit.baseline/v1\nfindings: &f\n  - *f\n", "b.yaml:3:5: findings[0]: alias *f is inside the value it names"},
		// Within the bound, a baseline is still written out in full.
		{"value", "schema: permaudit.baseline/v1\nfindings:\n  - {fingerprint: 0123456789abcdef0123456789abcdef, reason: x, expires: &d 2025-06-30}\n  - {fingerprint: 0123456789abcdef0123456789abcdee, reason: y, expires: *d}\n",
			"b.yaml:4:73: findings[1].expires: aliases are not supported in a baseline"},
		{"entry", "schema: permaudit.baseline/v1\nfindings:\n  - &e {fingerprint: 0123456789abcdef0123456789abcdef, reason: x}\n  - *e\n",
			"b.yaml:4:5: findings[1]: aliases are not supported in a baseline"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseBaseline("b.yaml", []byte(tc.text))
			var ce roles.ConfigErrors
			if !errors.As(err, &ce) || len(ce) != 1 {
				t.Fatalf("error = %v, want one roles.ConfigError", err)
			}
			if !strings.HasPrefix(ce[0].Error(), tc.want) {
				t.Errorf("got %v\nwant it to start %q", ce[0], tc.want)
			}
		})
	}
}

func TestParseBaselineHandWritten(t *testing.T) {
	// An entry written by hand from a finding's fields, without its
	// fingerprint, matches the finding.
	b := parseBaselineText(t, `schema: permaudit.baseline/v1
findings:
  - verdict: leak
    template: "GET /admin/users/{id}"
    role: customer
    reason: "tracked in ACME-7"
`)
	run := shopRun(t, true, false, false)
	ApplyBaseline(run, b, day(2025, 1, 1))
	if run.Gate.Failed || run.Baseline.Accepted != 2 {
		t.Errorf("gate %+v, baseline %+v: want both leaks baselined", run.Gate, run.Baseline)
	}
}

// golden compares got with testdata/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./report -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func FuzzParseBaseline(f *testing.F) {
	f.Add([]byte("schema: permaudit.baseline/v1\nfindings: []\n"))
	f.Add([]byte("schema: permaudit.baseline/v1\nfindings:\n  - verdict: leak\n    template: \"GET /a/{id}\"\n    role: r\n    reason: x\n    expires: 2025-01-01\n"))
	f.Add([]byte("schema: permaudit.baseline/v1\nfindings:\n  - fingerprint: 0123456789abcdef0123456789abcdef\n    reason: &a x\n  - *a\n"))
	f.Add([]byte(baselineAliasBomb))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBaseline("f.yaml", data)
		if err != nil {
			var ce roles.ConfigErrors
			if !errors.As(err, &ce) || len(ce) == 0 {
				t.Fatalf("error %v is not a non-empty roles.ConfigErrors", err)
			}
			for _, e := range ce {
				if e.Line < 1 || e.Col < 1 || e.File != "f.yaml" {
					t.Fatalf("error without a position: %+v", e)
				}
			}
			return
		}
		seen := map[string]bool{}
		for _, e := range b.Entries {
			if !fingerprintRE.MatchString(e.Fingerprint) || strings.TrimSpace(e.Reason) == "" || seen[e.Fingerprint] {
				t.Fatalf("accepted a bad entry: %+v", e)
			}
			seen[e.Fingerprint] = true
			if e.Expires != "" {
				if _, err := time.Parse(time.DateOnly, e.Expires); err != nil {
					t.Fatalf("accepted a bad expiry: %+v", e)
				}
			}
		}
	})
}
