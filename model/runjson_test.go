package model

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

// The v1 fixtures: runs written by the v1 writer (the report package's
// golden runs before v2), kept so that every later version still reads
// them. run-v1.json has a rules table; rich-v1.json, made before rules
// were recorded, has none, and more verdicts.
var v1Fixtures = []string{"testdata/run-v1.json", "testdata/rich-v1.json"}

func readV1(t *testing.T, file string) *Run {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	run, err := ReadRun(f)
	if err != nil {
		t.Fatalf("ReadRun(v1): %v", err)
	}
	return run
}

func TestReadV1(t *testing.T) {
	for _, file := range v1Fixtures {
		t.Run(file, func(t *testing.T) { testReadV1(t, file) })
	}
}

func testReadV1(t *testing.T, file string) {
	run := readV1(t, file)
	if run.Schema != SchemaV1 {
		t.Errorf("schema: got %q, want %q", run.Schema, SchemaV1)
	}
	if run.Observations.Len() == 0 || len(run.Findings) == 0 {
		t.Fatalf("v1 run read with %d cells and %d findings; want some of each", run.Observations.Len(), len(run.Findings))
	}
	names := map[string]bool{}
	for _, ri := range run.Rules {
		names[ri.Name] = true
	}
	for i, c := range run.Observations.All() {
		if c.Rule == "" || (len(run.Rules) > 0 && !names[c.Rule]) {
			t.Errorf("cell %d: rule %q, want the name of one of the run's rules", i, c.Rule)
		}
	}
	// v1 keeps the excerpts of pass cells; reading does not drop them.
	excerpts := 0
	for _, c := range run.Observations.All() {
		if c.Verdict == Pass && c.Excerpt != "" {
			excerpts++
		}
	}
	if excerpts == 0 && strings.Contains(file, "rich") {
		t.Error("no pass cell of the v1 fixture kept its excerpt; the fixture should show that v1 had them")
	}
}

// TestWriteRunV2 writes the v1 fixture as v2 and reads it back: the same
// run, but for what v2 leaves out (the excerpts of pass cells, a digest
// without ids equal to the body's) and the schema.
func TestWriteRunV2(t *testing.T) {
	for _, file := range v1Fixtures {
		t.Run(file, func(t *testing.T) { testWriteRunV2(t, file) })
	}
}

func testWriteRunV2(t *testing.T, file string) {
	run := readV1(t, file)
	var b bytes.Buffer
	if err := WriteRun(&b, run); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	for _, want := range []string{`"schema": "permaudit.run/v2"`, `"rule":1,`, "\n  \"observations\": [\n    {\"method\":"} {
		if !strings.Contains(text, want) {
			t.Errorf("v2 output lacks %q", want)
		}
	}
	if strings.Contains(text, `"rule":"`) && strings.Contains(text[strings.Index(text, `"observations"`):strings.Index(text, `"findings"`)], `"rule":"`) {
		t.Error("a v2 cell names its rule; want its index in rules")
	}
	back, err := ReadRun(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatalf("ReadRun(v2): %v", err)
	}
	want := readV1(t, file)
	want.Schema = SchemaVersion
	dropped := 0
	for i := range want.Observations.Len() {
		cell := want.Observations.At(i)
		c := &cell
		if c.Verdict == Pass && c.Excerpt != "" {
			c.Excerpt = ""
			dropped++
		}
		if c.BodySHA256WithoutIDs == c.BodySHA256 {
			c.BodySHA256WithoutIDs = ""
		}
		want.Observations.Set(i, cell)
	}
	for i := range want.Canaries {
		if o := &want.Canaries[i]; o.BodySHA256WithoutIDs == o.BodySHA256 {
			o.BodySHA256WithoutIDs = ""
		}
	}
	if strings.Contains(file, "rich") && dropped == 0 {
		t.Error("no pass cell's excerpt was dropped; the rich fixture has some")
	}
	if !sameRun(back, want) {
		t.Errorf("v2 read back differs from the v1 run, v2's omissions aside:\n got %+v\nwant %+v", back, want)
	}
	// The rule strings of cells are shared, not one per cell.
	for i := 1; i < back.Observations.Len(); i++ {
		a, c := back.Observations.At(i-1).Rule, back.Observations.At(i).Rule
		if a == c && a != "" && !sameString(a, c) {
			t.Fatalf("cells %d and %d hold two copies of rule %q", i-1, i, a)
		}
	}
	// encoding/json reads it as ReadRun does.
	var plain Run
	if err := json.Unmarshal(b.Bytes(), &plain); err != nil || !reflect.DeepEqual(&plain, back) {
		t.Errorf("json.Unmarshal of the v2 run: %v, or a run other than ReadRun's", err)
	}
	// Written again, v2 gives the same bytes.
	var again bytes.Buffer
	if err := WriteRun(&again, back); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), b.Bytes()) {
		t.Error("a v2 run read and written again differs")
	}
}

func sameString(a, b string) bool { return unsafeData(a) == unsafeData(b) }

// TestWriteRunUnrecordedRule: cells citing a rule the run does not record
// (a run made before rules were) still name it in v2, through an entry of
// index -1 that reading does not add to the run's rules.
func TestWriteRunUnrecordedRule(t *testing.T) {
	run := &Run{Schema: SchemaVersion, Observations: CellsOf(
		Cell{Observation: Observation{Endpoint: Endpoint{Method: "GET", URL: "http://h/a"}, Role: "r", Class: Allowed}, Rule: "rule 1 (GET /a)", Verdict: Pass},
		Cell{Observation: Observation{Endpoint: Endpoint{Method: "GET", URL: "http://h/%zz"}, Role: "r"}, Expected: "unknown", Verdict: ErrorVerdict},
	)}
	var b bytes.Buffer
	if err := WriteRun(&b, run); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `{"index":-1,"name":"rule 1 (GET /a)"}`) {
		t.Errorf("no table entry for the unrecorded rule:\n%s", b.String())
	}
	back, err := ReadRun(&b)
	if err != nil {
		t.Fatal(err)
	}
	if back.Rules != nil || back.Observations.At(0).Rule != "rule 1 (GET /a)" || back.Observations.At(1).Rule != "" {
		t.Errorf("read back: rules %v, cell rules %q and %q; want no rules, %q and none", back.Rules, back.Observations.At(0).Rule, back.Observations.At(1).Rule, "rule 1 (GET /a)")
	}
}

// sameRun reports whether a and b are the same run: their cells equal
// one by one (Cells.Equal; how each holds its texts may differ), the rest
// deeply equal.
func sameRun(a, b *Run) bool {
	x, y := *a, *b
	x.Observations, y.Observations = nil, nil
	return a.Observations.Equal(b.Observations) && reflect.DeepEqual(x, y)
}
