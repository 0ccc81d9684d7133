package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/permaudit/permaudit/model"
)

// onPort moves every URL of run to another port, as a second environment
// of the same application would.
func onPort(run *model.Run, hostport string) *model.Run {
	b, _ := json.Marshal(run)
	moved := strings.ReplaceAll(string(b), "127.0.0.1:8080", hostport)
	out, err := model.ReadRun(strings.NewReader(moved))
	if err != nil {
		panic(err)
	}
	return out
}

func TestCompare(t *testing.T) {
	clean := shopRun(t, false, false, false)
	leaky := onPort(shopRun(t, true, false, false), "127.0.0.1:9090")
	clean.RunID, leaky.RunID = "old", "new"

	d := Compare(clean, leaky)
	var newFP []string
	for _, f := range d.NewFindings {
		newFP = append(newFP, string(f.Verdict)+" "+f.Path+" "+f.Role)
	}
	if got, want := strings.Join(newFP, "; "), "leak /admin/users/1 customer; leak /admin/users/2 customer"; got != want {
		t.Errorf("new findings = %q, want %q", got, want)
	}
	if len(d.FixedFindings) != 0 || len(d.AddedEndpoints) != 0 || len(d.RemovedEndpoints) != 0 {
		t.Errorf("fixed %v, added %v, removed %v: want none (the port changed, not the application)", d.FixedFindings, d.AddedEndpoints, d.RemovedEndpoints)
	}
	var changed []string
	for _, c := range d.Changed {
		changed = append(changed, c.String())
	}
	want := []string{
		"403 forbidden became 200 allowed for customer on GET /admin/users/1 (pass became leak)",
		"403 forbidden became 200 allowed for customer on GET /admin/users/2 (pass became leak)",
	}
	if strings.Join(changed, "\n") != strings.Join(want, "\n") {
		t.Errorf("changed:\n got %q\nwant %q", changed, want)
	}

	// The other way round, the leak is fixed.
	back := Compare(leaky, clean)
	if len(back.NewFindings) != 0 || len(back.FixedFindings) != 2 || len(back.Changed) != 2 {
		t.Errorf("reverse diff: new %d, fixed %d, changed %d; want 0, 2, 2", len(back.NewFindings), len(back.FixedFindings), len(back.Changed))
	}
	if !Compare(clean, clean).Empty() {
		t.Error("a run compared with itself is not empty")
	}
}

func TestCompareEndpoints(t *testing.T) {
	old := shopRun(t, false, false, false)
	cur := shopRun(t, false, false, false)
	// The new run no longer has /admin/settings and has /admin/new.
	var cells []model.Cell
	for _, c := range cur.Observations.All() {
		if strings.HasSuffix(c.URL, "/admin/settings") {
			c.URL = strings.Replace(c.URL, "/admin/settings", "/admin/new", 1)
		}
		cells = append(cells, c)
	}
	cur.Observations = model.CellsOf(cells...)
	d := Compare(old, cur)
	if strings.Join(d.AddedEndpoints, ",") != "GET /admin/new" || strings.Join(d.RemovedEndpoints, ",") != "GET /admin/settings" {
		t.Errorf("added %v, removed %v; want GET /admin/new and GET /admin/settings", d.AddedEndpoints, d.RemovedEndpoints)
	}
}

func TestWriteDiffGolden(t *testing.T) {
	old := shopRun(t, false, true, true)
	cur := shopRun(t, true, false, true)
	old.RunID, cur.RunID = "old", "new"
	// A hostile path must not break a table or a terminal.
	for i := range cur.Observations.Len() {
		if c := cur.Observations.At(i); strings.HasSuffix(c.URL, "/admin/users/2") {
			c.URL += "?q=%7C%60%1B"
			cur.Observations.Set(i, c)
		}
	}
	for i := range cur.Findings {
		if strings.HasSuffix(cur.Findings[i].Path, "/admin/users/2") {
			cur.Findings[i].Path = "/admin/users/2?x=|`\x1b[2J<b>"
		}
	}
	d := Compare(old, cur)
	for _, format := range DiffFormats() {
		var buf bytes.Buffer
		if err := WriteDiff(&buf, d, format); err != nil {
			t.Fatal(err)
		}
		if bytes.ContainsAny(buf.Bytes(), "\x1b") {
			t.Errorf("%s: an escape character reached the output", format)
		}
		golden(t, "diff."+format+".golden", buf.Bytes())
		var again bytes.Buffer
		_ = WriteDiff(&again, d, format)
		if !bytes.Equal(buf.Bytes(), again.Bytes()) {
			t.Errorf("%s: two renderings differ", format)
		}
	}
	if err := WriteDiff(&bytes.Buffer{}, d, "pdf"); err == nil {
		t.Error("an unknown format was accepted")
	}
}
