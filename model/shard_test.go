package model

import (
	"strings"
	"testing"
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
		{"run without reason", `{"schema":"permaudit.run/v1","target":"https://app.test",` + entries + `}`, false, "the run was incomplete", ""},
		{"no schema", `{"target":"https://app.test"}`, false, "", `no "schema" field`},
		{"other schema", `{"schema":"permaudit.baseline/v1","target":"https://app.test"}`, false, "", `unsupported schema "permaudit.baseline/v1"`},
		{"no target", `{"schema":"permaudit.inventory/v1",` + entries + `}`, false, "", `no "target"`},
		{"trailing data", `{"schema":"permaudit.inventory/v1","target":"https://app.test"} {}`, false, "", "data after the JSON object"},
		{"not JSON", `schema: x`, false, "", "not a permaudit inventory or run JSON"},
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
