package judge

import (
	"net/url"
	"strings"
	"testing"

	"github.com/permaudit/permaudit/roles"
)

func TestShapeSetsIDsAsideOnlyWhereTheyStand(t *testing.T) {
	tests := []struct {
		text string
		ids  []string
		want string // tokens, ids written {id}, noise {noise}, joined by spaces
	}{
		{"font-size:1.5rem; line-height:1.5; .5em", []string{"5"}, "font-size : 1.5rem ; line-height : 1.5 ; . 5em"},
		{"Note 5 was not found.", []string{"5"}, "Note {id} was not found ."},
		{"/notes/5/edit?id=5&amp;v=5", []string{"5"}, "/ notes / {id} / edit ? id = {id} & v = {id}"},
		{"%2Fnotes%2F5 &#47;notes&#x2F;5 \\/notes\\/5 %252F5", []string{"5"}, "/ notes / {id} / notes / {id} / notes / {id} / {id}"},
		{`{"id":5,"ref":"5","n":15,"x":"order-5"}`, []string{"5"}, `{ " id " : {id} , " ref " : " {id} " , " n " : 15 , " x " : " order-5 " }`},
		{"at 12:30, req 9f8e7d6c5b4a, 2026-12-04T10:00:00Z 1,5", nil, "at {noise} , req {noise} , {noise} 1,5"},
		{`<input type="hidden" name="_wpnonce" value="abc"><meta name="csrf-token" content="x y"><script nonce="q">n = {"nonce": "z"}</script>`, nil,
			`< input type = " hidden " name = " _ wpnonce " value = " {noise} " > < meta name = " csrf-token " content = " {noise} {noise} " > < script nonce = " {noise} " > n = { " nonce " : " {noise} " } < / script >`},
		{"Project alpha; alpha-team", []string{"alpha"}, "Project {id} ; alpha-team"},
		{"ERR_NOT_FOUND_404 v1.5.3 a1b2c3d4e5 rAnd0mB4s3xY 2026-12-04", nil, "ERR_NOT_FOUND_404 v1.5.3 {noise} {noise} {noise}"},
	}
	for _, tt := range tests {
		s := ShapeOf(tt.text, tt.ids)
		var got []string
		for _, tk := range s.toks {
			switch {
			case tk.id:
				got = append(got, "{id}")
			case tk.noise:
				got = append(got, "{noise}")
			default:
				got = append(got, tk.text)
			}
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("ShapeOf(%q, %q):\n got %s\nwant %s", tt.text, tt.ids, strings.Join(got, " "), tt.want)
		}
	}
}

func TestCompareMissing(t *testing.T) {
	shape := func(text, id string) *Shape { return ShapeOf(text, []string{id}) }
	tests := []struct {
		name       string
		o, a, b    string
		differs    bool
		difference string
	}{
		{"alike but for the id", "Note 5 not found, 5 of 5 shown", "Note 911 not found, 5 of 5 shown", "Note 922 not found, 5 of 5 shown", false, ""},
		{"another message", "Note 5 is private", "Note 911 not found", "Note 922 not found", true, `"is private" where the missing siblings have "not found"`},
		{"the siblings disagree where the answer differs", "Not found (took 3 ms)", "Not found (took 4 ms)", "Not found (took 7 ms)", false, ""},
		{"an extra sentence", "Not found. Ask the owner.", "Not found.", "Not found.", true, `"Ask the owner ." where the missing siblings have "."`},
		{"another error code", "Denied: ERR_FORBIDDEN_403", "Denied: ERR_NOT_FOUND_404", "Denied: ERR_NOT_FOUND_404", true, `"ERR_FORBIDDEN_403" where the missing siblings have "ERR_NOT_FOUND_404"`},
		{"a counter the siblings show changing", "Not found; visit 3", "Not found; visit 1", "Not found; visit 2", false, ""},
	}
	for _, tt := range tests {
		m := CompareMissing(shape(tt.o, "5"), shape(tt.a, "911"), shape(tt.b, "922"))
		if m == nil || m.Differs != tt.differs || m.Difference != tt.difference {
			t.Errorf("%s: %+v, want differs %v %q", tt.name, m, tt.differs, tt.difference)
		}
	}
	// Bodies far apart differ, and a long body is compared quickly.
	long := strings.Repeat("word ", 40000)
	if m := CompareMissing(shape(long+"private", "5"), shape(long+"missing", "9"), shape(long+"missing", "8")); !m.Differs {
		t.Errorf("long bodies: %+v", m)
	}
	if m := CompareMissing(shape(strings.Repeat("a b ", 400), "5"), shape(strings.Repeat("c d ", 400), "9"), shape(strings.Repeat("c d ", 400), "8")); !m.Differs {
		t.Errorf("unlike bodies: %+v", m)
	}
}

func TestCanaryTarget(t *testing.T) {
	cfg, err := roles.Parse("t.yaml", []byte(`target: http://h
matrix:
  rules:
    - {match: "GET /projects/{project}", allow: [anonymous]}
    - {match: "GET /projects/{project}/issues/{n}", allow: [anonymous]}
`), roles.LoadOptions{Env: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		raw  string
		rule int
		want string // group, value; "" for none
	}{
		{"http://h/orders/17", 0, "GET /orders/{id} 17"},
		{"http://h/blog/page/2", 0, ""},
		{"http://h/api.php?action=q&adrlimit=20&rcnamespace=0&ns=2&limit=5&page=3&per_page=9&itemCount=4", 0, ""},
		{"http://h/api.php?oldid=12&drlimit=10", 0, "GET /api.php?drlimit={id}&oldid={id} 12"},
		{"http://h/accounts?account=12", 0, "GET /accounts?account={id} 12"},
		{"http://h/projects/alpha", 1, "GET /projects/{project} alpha"},
		{"http://h/projects/alpha/issues/7", 2, "GET /projects/alpha/issues/{id} 7"},
		{"http://h/projects/alpha", 0, ""},
	}
	for _, tt := range tests {
		u, _ := url.Parse(tt.raw)
		tg, ok := CanaryTarget(cfg, "GET", u, "anonymous", nil, tt.rule)
		got := ""
		if ok {
			got = tg.Group + " " + tg.Value
		}
		if got != tt.want {
			t.Errorf("CanaryTarget(%s, rule %d) = %q, want %q", tt.raw, tt.rule, got, tt.want)
		}
	}
}
