package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/permaudit/permaudit/internal/textout"
	"github.com/permaudit/permaudit/model"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fixedRun is a small run built by hand: golden files pin rendering only,
// never what the judge decides.
func fixedRun() *model.Run {
	started := time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)
	cell := func(role, path string, status int, class model.Class, why, expected, rule string, v model.Verdict) model.Cell {
		return model.Cell{
			Observation: model.Observation{
				Endpoint:    model.Endpoint{Method: "GET", URL: "http://127.0.0.1:8080" + path},
				Role:        role,
				Status:      status,
				Class:       class,
				Why:         why,
				ContentType: "text/html; charset=utf-8",
				Size:        42,
				BodySHA256:  "4b227777d4dd1fc61c6f884f48641d02b4d121d3fd328cb08b5531fcacdabf8a",
				Excerpt:     "<h1>Admin</h1>",
				Latency:     1500 * time.Microsecond,
			},
			Template: model.Template("GET", "http://127.0.0.1:8080"+path),
			Expected: expected,
			Rule:     rule,
			Verdict:  v,
		}
	}
	c2 := cell("anonymous", "/admin/", 302, model.Unauthenticated, "redirect to login /login", "deny", "rule 2 (GET /admin/**)", model.Pass)
	c2.Location = "/login"
	c2.Excerpt = ""
	c4 := cell("customer", "/admin/\x1b[2Jx", 405, model.Other, "status 405", "deny", "rule 2 (GET /admin/**)", model.Inconclusive)
	c4.Template = "GET /admin/\x1b[2Jx"
	c3 := cell("customer", "/api/orders/9", 0, model.Error, "", "deny as 404", "rule 4 (GET /api/orders/{id})", model.ErrorVerdict)
	c3.Err = "dial tcp 127.0.0.1:8080: connection refused"
	c3.ContentType, c3.Size, c3.BodySHA256, c3.Excerpt = "", 0, "", ""
	return &model.Run{
		Schema:            model.SchemaVersion,
		Tool:              model.Tool{Name: "permaudit", Version: "0.1.0"},
		RunID:             "20250314T092653Z-1a2b3c",
		Target:            "http://127.0.0.1:8080",
		Started:           started,
		Finished:          started.Add(2500 * time.Millisecond),
		Duration:          2500 * time.Millisecond,
		ConfigFile:        "permaudit.yaml",
		ConfigFingerprint: "9f86d081884c7d659a2feaa0c55ad015",
		Roles: []model.RoleInfo{
			{Name: "anonymous", SignIn: "none"},
			{Name: "customer", SignIn: "bearer"},
			{Name: "admin", SignIn: "bearer", Inherits: []string{"customer"}},
		},
		Gate:     model.Gate{FailOn: model.DefaultFailOn, Failed: true, Failing: 2},
		Complete: true,
		Rules: []model.RuleInfo{
			{Index: 1, Name: "rule 1 (GET /)", Patterns: []string{"GET /"}, File: "permaudit.yaml", Line: 21},
			{Index: 2, Name: "rule 2 (GET /admin/**)", Patterns: []string{"GET /admin/**"}, File: "permaudit.yaml", Line: 23},
			{Index: 4, Name: "rule 4 (GET /api/orders/{id})", Patterns: []string{"GET /api/orders/{id}"}, File: "permaudit.yaml", Line: 27},
			{Index: 5, Name: "rule 5 (GET /never/**)", Patterns: []string{"GET /never/**"}, File: "permaudit.yaml", Line: 29},
			{Name: "default", File: "permaudit.yaml"},
		},
		Inventory: model.Inventory{
			Entries: []model.Entry{
				{Endpoint: model.Endpoint{Method: "GET", URL: "http://127.0.0.1:8080/admin/"}, Template: "GET /admin/", FoundBy: []string{"admin"}, Sources: []string{"link"}},
				{Endpoint: model.Endpoint{Method: "GET", URL: "http://127.0.0.1:8080/admin/\x1b[2Jx"}, Template: "GET /admin/\x1b[2Jx", FoundBy: []string{"admin"}, Sources: []string{"link"}},
				{Endpoint: model.Endpoint{Method: "GET", URL: "http://127.0.0.1:8080/api/orders/9"}, Template: "GET /api/orders/{id}", FoundBy: []string{"admin"}, Sources: []string{"link"}},
			},
			Skipped: []model.Skip{{Endpoint: model.Endpoint{Method: "GET", URL: "http://127.0.0.1:8080/logout"}, Reason: `excluded word "logout"`}},
			Pages:   map[string]int{"anonymous": 2, "customer": 3, "admin": 4},
		},
		Observations: model.CellsOf(
			cell("customer", "/admin/", 200, model.Allowed, "status 200", "deny", "rule 2 (GET /admin/**)", model.Leak),
			c2,
			c3,
			c4,
		),
		Findings: []model.Finding{
			{Verdict: model.Leak, Severity: model.Critical, Method: "GET", URL: "http://127.0.0.1:8080/admin/", Path: "/admin/",
				Template: "GET /admin/", Role: "customer", Expected: "deny", Observed: "200 allowed", Rule: "rule 2 (GET /admin/**)",
				Message: "GET /admin/ as customer: expected deny, got 200 allowed", Fingerprint: model.Fingerprint(model.Leak, "GET", "GET /admin/", "customer"), Cell: 0},
			{Verdict: model.ErrorVerdict, Severity: model.Medium, Method: "GET", URL: "http://127.0.0.1:8080/api/orders/9", Path: "/api/orders/9",
				Template: "GET /api/orders/{id}", Role: "customer", Expected: "deny as 404", Observed: "error: dial tcp 127.0.0.1:8080: connection refused",
				Rule: "rule 4 (GET /api/orders/{id})", Message: "GET /api/orders/9 as customer: no decision: dial tcp 127.0.0.1:8080: connection refused",
				Fingerprint: model.Fingerprint(model.ErrorVerdict, "GET", "GET /api/orders/{id}", "customer"), Cell: 2},
		},
		Notes: []model.Finding{
			{Verdict: model.Inconclusive, Severity: model.Info, Method: "GET", URL: "http://127.0.0.1:8080/admin/\x1b[2Jx", Path: "/admin/\x1b[2Jx",
				Template: "GET /admin/\x1b[2Jx", Role: "customer", Expected: "deny", Observed: "405 other", Rule: "rule 2 (GET /admin/**)",
				Message:     "GET /admin/\x1b[2Jx as customer: expected deny, got 405 other, which is neither allowed nor a denial; name the code in the rule's deny_as to judge it",
				Fingerprint: model.Fingerprint(model.Inconclusive, "GET", "GET /admin/\x1b[2Jx", "customer"), Cell: 3},
			{Verdict: model.DeadRule, Severity: model.Info, Rule: "rule 5 (GET /never/**)", Message: "rule 5 (GET /never/**) at line 29 matched no probed endpoint",
				Fingerprint: model.DeadRuleFingerprint([]string{"GET /never/**"}), Cell: -1},
		},
		Counts: map[model.Verdict]int{
			model.Pass: 1, model.Leak: 1, model.Blocked: 0, model.ExistenceLeak: 0, model.WrongCode: 0, model.ErrorVerdict: 1,
			model.Inconclusive: 1, model.Unmapped: 0, model.DeadRule: 1, model.MissingWWWAuth: 0,
		},
	}
}

func TestWritersGolden(t *testing.T) {
	for _, format := range Formats() {
		t.Run(format, func(t *testing.T) {
			w, err := WriterFor(format)
			if err != nil {
				t.Fatalf("WriterFor(%q): %v", format, err)
			}
			var got bytes.Buffer
			if err := w.Write(&got, fixedRun()); err != nil {
				t.Fatalf("write %s: %v", format, err)
			}
			var again bytes.Buffer
			if err := w.Write(&again, fixedRun()); err != nil {
				t.Fatalf("write %s again: %v", format, err)
			}
			if !bytes.Equal(got.Bytes(), again.Bytes()) {
				t.Errorf("%s: two renderings of the same run differ", format)
			}
			golden := filepath.Join("testdata", "run."+format+".golden")
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatalf("update golden: %v", err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden (run go test ./report -update to create it): %v", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("%s output differs from %s (go test ./report -update rewrites it):\n got:\n%s\nwant:\n%s", format, golden, got.Bytes(), want)
			}
		})
	}
}

func TestTextHasNoControlCharacters(t *testing.T) {
	var b bytes.Buffer
	if err := (textWriter{}).Write(&b, fixedRun()); err != nil {
		t.Fatalf("write text: %v", err)
	}
	for i, r := range b.String() {
		if (r < 0x20 && r != '\n') || (r >= 0x7f && r <= 0x9f) {
			t.Fatalf("text output holds control character %U at byte %d:\n%s", r, i, b.String())
		}
	}
	if !strings.Contains(b.String(), `/admin/\x1b[2Jx`) {
		t.Errorf("text output: want the escape shown as \\x1b, got:\n%s", b.String())
	}
}

func TestGateLine(t *testing.T) {
	tests := []struct {
		gate model.Gate
		want string
	}{
		{model.Gate{FailOn: model.DefaultFailOn, Failed: true, Failing: 3}, "gate: FAILED — 3 findings fail on leak,blocked,existence-leak,error"},
		{model.Gate{FailOn: []model.Verdict{model.Leak}, Failed: true, Failing: 1}, "gate: FAILED — 1 finding fails on leak"},
		{model.Gate{FailOn: model.DefaultFailOn}, "gate: passed (it fails on leak,blocked,existence-leak,error)"},
		{model.Gate{FailOn: []model.Verdict{}}, "gate: passed (it fails on nothing: --fail-on none)"},
	}
	for _, tt := range tests {
		if got := gateLine(tt.gate); got != tt.want {
			t.Errorf("gateLine(%+v): got %q, want %q", tt.gate, got, tt.want)
		}
	}
}

func TestWriterFor(t *testing.T) {
	if got, want := Formats(), []string{"csv", "html", "json", "junit", "markdown", "sarif", "text"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Formats: got %q, want %q", got, want)
	}
	_, err := WriterFor("xml")
	if err == nil || !strings.Contains(err.Error(), `"xml"`) || !strings.Contains(err.Error(), "csv, html, json, junit, markdown, sarif, text") {
		t.Errorf("WriterFor(xml): got error %v, want one naming xml and listing every format", err)
	}
}

func TestSanitize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/plain/path?a=1", "/plain/path?a=1"},
		{"caf\u00e9 ✓", "caf\u00e9 ✓"},
		{"\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"a\tb\nc\rd", `a\x09b\x0ac\x0dd`},
		{"del\x7f", `del\x7f`},
		{"c1\u009b31m", `c1\u009b31m`},
		{"bidi\u202eevil", `bidi\u202eevil`},
		{"bad\xffutf8", `bad\xffutf8`},
	}
	for _, tt := range tests {
		if got := textout.Sanitize(tt.in); got != tt.want {
			t.Errorf("textout.Sanitize(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestReadRun(t *testing.T) {
	var b bytes.Buffer
	if err := (jsonWriter{}).Write(&b, fixedRun()); err != nil {
		t.Fatalf("write json: %v", err)
	}
	run, err := model.ReadRun(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatalf("ReadRun: %v", err)
	}
	if want := fixedRun(); !sameRun(run, want) {
		t.Errorf("ReadRun did not give back the run written:\n got %+v\nwant %+v", run, fixedRun())
	}

	bad := []struct {
		name, in, want string
	}{
		{"other version", `{"schema":"permaudit.run/v3","run_id":"x"}`, `unsupported schema "permaudit.run/v3"; this permaudit reads permaudit.run/v2 and permaudit.run/v1`},
		{"no schema", `{"run_id":"x"}`, `no "schema" field`},
		{"not json", `<html>`, "not a permaudit run JSON"},
		{"not an object", `[1,2]`, "not a permaudit run JSON"},
		{"trailing data", `{"schema":"permaudit.run/v1"} {}`, "data after the run JSON object"},
		{"v2 rule out of the table", `{"schema":"permaudit.run/v2","rules":[],"observations":[{"method":"GET","rule":3}]}`, "rule 3, but rules has 0 entries"},
		{"wrong field type", `{"schema":"permaudit.run/v1","complete":"yes"}`, "decode permaudit.run/v1"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := model.ReadRun(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("model.ReadRun(%s): got error %v, want one containing %q", tt.in, err, tt.want)
			}
		})
	}

	// Fields added later within v1 are ignored.
	if _, err := model.ReadRun(strings.NewReader(`{"schema":"permaudit.run/v1","added_later":1}`)); err != nil {
		t.Errorf("ReadRun with an unknown field: %v, want it ignored", err)
	}
}

// sameRun reports whether a and b are the same run: their cells equal
// one by one (Cells.Equal), the rest deeply equal.
func sameRun(a, b *model.Run) bool {
	x, y := *a, *b
	x.Observations, y.Observations = nil, nil
	return a.Observations.Equal(b.Observations) && reflect.DeepEqual(x, y)
}
