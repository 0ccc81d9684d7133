package report

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// TestRedactRunReachesEveryOutput plants a secret in every plain string of
// a run (every field a target, a configuration or a sign-in could fill),
// redacts the run, and renders every format: no output may hold the
// secret, the HTML report's compressed evidence included. This is what
// lets the audit redact the run instead of the rendered bytes: no writer
// renders a string that does not come from the run.
func TestRedactRunReachesEveryOutput(t *testing.T) {
	const secret = "s3cr3t-Tok3n-9f3a"
	r := ownRun(t, baselinedRun())
	planted := 0
	redactValue(reflect.ValueOf(r).Elem(), func(s string) string {
		planted++
		return s + secret
	})
	if planted < 100 {
		t.Fatalf("planted the secret in %d strings only; the walk misses fields", planted)
	}
	red := roles.NewRedactor()
	red.Add("roles.admin.login.bearer", secret)
	RedactRun(r, red.Redact)

	for _, format := range formats() {
		w, err := writerFor(format)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := w.Write(&buf, r); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		out := buf.String()
		if strings.Contains(out, secret) {
			t.Errorf("%s output holds the secret", format)
		}
		if !strings.Contains(out, "REDACTED:roles.admin.login.bearer") { // markdown escapes the brackets
			t.Errorf("%s output shows no placeholder: the run's strings never reach it, so this test proves nothing for it", format)
		}
		if format != "html" {
			continue
		}
		_, strs := evidenceCells(t, out)
		if len(strs) == 0 {
			t.Fatal("the HTML report has no evidence")
		}
		placeholders := 0
		for _, table := range strs {
			for _, s := range table {
				if strings.Contains(s, secret) {
					t.Fatalf("HTML evidence holds the secret: %q", s)
				}
				if strings.Contains(s, "[REDACTED:") {
					placeholders++
				}
			}
		}
		if placeholders == 0 {
			t.Error("the HTML evidence shows no placeholder")
		}
	}
}

// TestRedactRunKeepsStructure: secrets that read like JSON values, numbers,
// words of the vocabulary or keys of the run ("true", "200", "leak",
// "complete", a role name) are redacted in the strings that hold them and
// nowhere else. The run JSON stays valid and reads back with the same
// verdicts and counts, which a pass over the rendered bytes could not
// promise.
func TestRedactRunKeepsStructure(t *testing.T) {
	r := ownRun(t, baselinedRun())
	counts := map[model.Verdict]int{}
	for k, v := range r.Counts {
		counts[k] = v
	}
	verdicts := make([]model.Verdict, r.Observations.Len())
	for i, o := range r.Observations.All() {
		verdicts[i] = o.Verdict
	}
	red := roles.NewRedactor()
	for _, s := range []string{"true", "200", "leak", "complete", "admin", "GET", "1"} {
		red.Add("roles.x.login.password", s)
	}
	RedactRun(r, red.Redact)

	var buf bytes.Buffer
	if err := (jsonWriter{}).Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(buf.Bytes()) {
		t.Fatal("the redacted run JSON is not valid JSON")
	}
	back, err := model.ReadRun(&buf)
	if err != nil {
		t.Fatalf("the redacted run does not read back: %v", err)
	}
	if !back.Complete || !reflect.DeepEqual(back.Counts, counts) {
		t.Errorf("complete %v, counts %v; want true, %v", back.Complete, back.Counts, counts)
	}
	for i, o := range back.Observations.All() {
		if o.Verdict != verdicts[i] || o.Status == 0 && verdicts[i] == model.Pass {
			t.Fatalf("observation %d: verdict %s status %d, want verdict %s", i, o.Verdict, o.Status, verdicts[i])
		}
	}
	if !strings.Contains(back.Observations.At(0).Method, "[REDACTED:") {
		t.Errorf("method %q: the plain strings were not redacted", back.Observations.At(0).Method)
	}
}

// ownRun returns a deep copy of r (through its JSON), so that a test that
// rewrites the run's strings cannot change the fixtures other tests share.
func ownRun(t *testing.T, r *model.Run) *model.Run {
	t.Helper()
	var b bytes.Buffer
	if err := (jsonWriter{}).Write(&b, r); err != nil {
		t.Fatal(err)
	}
	own, err := model.ReadRun(&b)
	if err != nil {
		t.Fatal(err)
	}
	return own
}

// TestRedactRunCoversEveryField: redactValue follows pointers, structs
// and slices to strings. A field of another kind that could hold text (an
// interface, an array, a map with other values than numbers) would escape
// it, and the planting test too, which uses the same walk: this test
// names it instead.
func TestRedactRunCoversEveryField(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(tp reflect.Type, at string)
	walk = func(tp reflect.Type, at string) {
		if seen[tp] {
			return
		}
		seen[tp] = true
		switch tp.Kind() {
		case reflect.Pointer, reflect.Slice:
			walk(tp.Elem(), at)
		case reflect.Struct:
			for i := range tp.NumField() {
				if f := tp.Field(i); f.IsExported() {
					walk(f.Type, at+"."+f.Name)
				}
			}
		case reflect.Map:
			switch tp.Elem() {
			case reflect.TypeFor[int](), reflect.TypeFor[int64](), reflect.TypeFor[string]():
			default:
				t.Errorf("%s: a map of %s, which RedactRun does not redact", at, tp.Elem())
			}
		case reflect.Interface, reflect.Array, reflect.Chan, reflect.Func:
			t.Errorf("%s: a field of kind %s, which RedactRun does not redact", at, tp.Kind())
		}
	}
	walk(reflect.TypeFor[model.Run](), "Run")
}
