package model

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestReadInventory(t *testing.T) {
	const entries = `"inventory":{"endpoints":[{"method":"GET","url":"https://app.test/","template":"GET /","found_by":["anonymous"],"sources":["start"]}],"skipped":[],"pages":{"anonymous":1}}`
	cases := []struct {
		name       string
		json       string
		complete   bool
		incomplete string
		err        string
	}{
		{"inventory file", `{"schema":"permaudit.inventory/v1","target":"https://app.test","complete":true,` + entries + `}`, true, "", ""},
		{"cut inventory file", `{"schema":"permaudit.inventory/v1","target":"https://app.test","complete":false,"incomplete_reason":"interrupted",` + entries + `}`, false, "interrupted", ""},
		{"complete run", `{"schema":"permaudit.run/v1","target":"https://app.test","complete":true,"observations":[],` + entries + `}`, true, "", ""},
		{"incomplete run", `{"schema":"permaudit.run/v1","target":"https://app.test","complete":false,"incomplete_reason":"max_probes 10 reached: 3 endpoint(s) not probed",` + entries + `}`, false, "max_probes 10 reached: 3 endpoint(s) not probed", ""},
		{"run with cells and fields an inventory lacks", `{"schema":"permaudit.run/v2","target":"https://app.test","complete":true,"observations":[{"method":"GET","url":"https://app.test/","role":"anonymous","status":200,"class":"allowed","rule":0},{"method":"GET","url":"https://app.test/","role":"alice","status":403,"class":"forbidden"}],"gate":{"failed":false,"fail_on":["leak"],"nested":{"a":[1,{"b":null}]}},"findings":[],"rules":[{"index":1,"name":"r"}],` + entries + `,"later":"x"}`, true, "", ""},
		{"run without reason", `{"schema":"permaudit.run/v1","target":"https://app.test",` + entries + `}`, false, "the run was incomplete", ""},
		{"no schema", `{"target":"https://app.test"}`, false, "", `no "schema" field`},
		{"other schema", `{"schema":"permaudit.baseline/v1","target":"https://app.test"}`, false, "", `unsupported schema "permaudit.baseline/v1"`},
		{"no target", `{"schema":"permaudit.inventory/v1",` + entries + `}`, false, "", `no "target"`},
		{"trailing data", `{"schema":"permaudit.inventory/v1","target":"https://app.test"} {}`, false, "", "data after the JSON object"},
		{"not JSON", `schema: x`, false, "", "not a permaudit inventory or run JSON"},
		{"cut short in the cells", `{"schema":"permaudit.run/v2","target":"https://app.test","observations":[{"method":"GET"},`, false, "", "not a permaudit inventory or run JSON"},
		{"a field of the wrong type", `{"schema":"permaudit.inventory/v1","target":"https://app.test","complete":"yes"}`, false, "", "complete"},
	}
	for _, tc := range cases {
		f, err := ReadInventory(strings.NewReader(tc.json))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want one saying %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if f.Complete != tc.complete || f.Incomplete != tc.incomplete || len(f.Inventory.Entries) != 1 {
			t.Errorf("%s: complete %v (%q), %d entries; want %v (%q), 1", tc.name, f.Complete, f.Incomplete, len(f.Inventory.Entries), tc.complete, tc.incomplete)
		}
	}
}

func TestInventoryDigest(t *testing.T) {
	a := Inventory{Entries: []Entry{{Endpoint: Endpoint{Method: "GET", URL: "https://app.test/"}}}}
	b := a
	b.Entries = []Entry{{Endpoint: Endpoint{Method: "GET", URL: "https://app.test/x"}}}
	if d := InventoryDigest(&a); d != InventoryDigest(&a) || !strings.HasPrefix(d, "sha256:") || len(d) != len("sha256:")+64 {
		t.Errorf("digest %q: not a stable sha256", d)
	}
	if InventoryDigest(&a) == InventoryDigest(&b) {
		t.Error("two inventories, one digest")
	}
}

// TestWriteInventory: what WriteInventory writes, ReadInventory reads
// back whole, and it is a stream: one endpoint per line.
func TestWriteInventory(t *testing.T) {
	f := &InventoryFile{
		Schema: "ignored", Tool: Tool{Name: "permaudit", Version: "test"}, RunID: "r1", Target: "https://app.test",
		Started: time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC), Finished: time.Date(2026, 12, 4, 10, 1, 0, 0, time.UTC),
		ConfigFingerprint: "sha256:c", Complete: false, Incomplete: "interrupted",
		Inventory: Inventory{
			Entries: []Entry{
				{Endpoint: Endpoint{Method: "GET", URL: "https://app.test/a?q=<b>&x"}, Template: "GET /a?q=", FoundBy: []string{"alice"}, Sources: []string{"link"}},
				{Endpoint: Endpoint{Method: "GET", URL: "https://app.test/b"}, Template: "GET /b", FoundBy: []string{"anonymous", "bob"}, Sources: []string{"start"}},
			},
			Skipped: []Skip{{Endpoint: Endpoint{Method: "GET", URL: "https://app.test/logout"}, Reason: `excluded word "logout"`}},
		},
	}
	var buf strings.Builder
	if err := WriteInventory(&buf, f); err != nil {
		t.Fatal(err)
	}
	got, err := ReadInventory(strings.NewReader(buf.String()))
	if err != nil {
		t.Fatalf("read back: %v\n%s", err, buf.String())
	}
	want := *f
	want.Schema = InventorySchema
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("read back\n got %+v\nwant %+v", *got, want)
	}
	for _, e := range f.Inventory.Entries {
		if !slices.ContainsFunc(strings.Split(buf.String(), "\n"), func(line string) bool {
			return strings.Contains(line, `"url":"`+e.URL+`"`) && strings.Contains(line, `"template"`)
		}) {
			t.Errorf("no line of its own for %s:\n%s", e.URL, buf.String())
		}
	}
}
