package model

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
)

// fullCell sets every field of a Cell to a value of its own, found by
// reflection: a field added to Cell, Observation or Endpoint is set too,
// so Cells must hold it or TestCellsHoldEveryField fails.
func fullCell(t *testing.T, k int) Cell {
	t.Helper()
	var c Cell
	var fill func(v reflect.Value, path string)
	fill = func(v reflect.Value, path string) {
		switch v.Kind() {
		case reflect.Struct:
			for i := range v.NumField() {
				fill(v.Field(i), path+"."+v.Type().Field(i).Name)
			}
			return
		case reflect.String:
			v.SetString(fmt.Sprintf("%s-%d", path, k))
			return
		case reflect.Int, reflect.Int64:
			v.SetInt(int64(100 + k))
			return
		case reflect.Bool:
			v.SetBool(true)
			return
		case reflect.Slice:
			s := reflect.MakeSlice(v.Type(), 1, 1)
			fill(s.Index(0), path+"[0]")
			v.Set(s)
			return
		case reflect.Pointer:
			p := reflect.New(v.Type().Elem())
			fill(p.Elem(), path)
			v.Set(p)
			return
		}
		t.Fatalf("fullCell: field %s of kind %s: teach fullCell (and Cells) to hold it", path, v.Kind())
	}
	fill(reflect.ValueOf(&c).Elem(), "Cell")
	return c
}

func TestCellsHoldEveryField(t *testing.T) {
	a, b := fullCell(t, 1), fullCell(t, 2)
	s := NewCells(3)
	s.Set(0, a)
	s.Set(2, b)
	if got := s.At(0); !reflect.DeepEqual(got, a) {
		t.Errorf("cell 0:\n got %+v\nwant %+v", got, a)
	}
	if got := s.At(1); !reflect.DeepEqual(got, Cell{}) {
		t.Errorf("cell 1, never set: got %+v, want the zero cell", got)
	}
	if got := s.At(2); !reflect.DeepEqual(got, b) {
		t.Errorf("cell 2:\n got %+v\nwant %+v", got, b)
	}
	// Overwriting a cell with one without the rare fields drops them.
	plain := Cell{Observation: Observation{Endpoint: Endpoint{Method: "GET", URL: "http://h/"}, Role: "r", Status: 200}}
	s.Set(0, plain)
	if got := s.At(0); !reflect.DeepEqual(got, plain) {
		t.Errorf("cell 0 set again:\n got %+v\nwant %+v", got, plain)
	}
	s.Set(0, a)
	if got := s.At(0); !reflect.DeepEqual(got, a) {
		t.Errorf("cell 0 set a third time:\n got %+v\nwant %+v", got, a)
	}
	// A Missing that tells no difference, alone or with other rare
	// fields, and one that tells one, each read back as set, whatever the
	// cell held before; the first takes no entry in extras.
	alike := plain
	alike.Missing = &MissingBody{}
	differs := plain
	differs.Missing = &MissingBody{Differs: true, Difference: `"x" where the missing siblings have "y"`}
	withChain := alike
	withChain.Chain = a.Chain
	extras := len(s.extras)
	for _, c := range []Cell{alike, differs, alike, withChain, alike, plain, alike} {
		s.Set(1, c)
		if got := s.At(1); !reflect.DeepEqual(got, c) {
			t.Errorf("cell 1:\n got %+v\nwant %+v", got, c)
		}
	}
	if got := s.At(1); got.Missing == alike.Missing {
		t.Error("a Missing read back is the pointer set: cells would share what a caller may change")
	}
	s.Set(2, alike)
	if len(s.extras) != extras+2 { // cell 1's, for differs and withChain
		t.Errorf("%d entries in extras, want %d: a Missing alike needs none", len(s.extras), extras+2)
	}
}

// TestCellRowHasNoPointers: a row is what the collector never scans; a
// pointer or a string in it would make it scan a million of them.
func TestCellRowHasNoPointers(t *testing.T) {
	rt := reflect.TypeFor[cellRow]()
	for i := range rt.NumField() {
		switch f := rt.Field(i); f.Type.Kind() {
		case reflect.Uint32, reflect.Int32, reflect.Int64, reflect.Bool:
		default:
			t.Errorf("cellRow.%s is a %s: rows hold numbers only (texts go in Cells.texts, the rest in Cells.extras)", f.Name, f.Type)
		}
	}
	if size := rt.Size(); size > 96 {
		t.Errorf("cellRow is %d bytes; docs/design.md counts on 96", size)
	}
}

func TestCellsShareTexts(t *testing.T) {
	s := NewCells(0)
	for i := range 1000 {
		s.Append(Cell{Observation: Observation{Endpoint: Endpoint{Method: "GET", URL: fmt.Sprintf("http://h/e/%d", i/5)}, Role: "admin", Class: Allowed, Why: "status 200"}, Verdict: Pass})
	}
	// "", GET, admin, allowed, status 200, pass, and 200 URLs.
	if got, want := len(s.texts), 6+200; got != want {
		t.Errorf("%d texts for 1,000 cells of 200 URLs, want %d", got, want)
	}
	if c := s.At(999); c.URL != "http://h/e/199" || c.Role != "admin" {
		t.Errorf("cell 999 = %s as %s", c.URL, c.Role)
	}
	// Judging sets every cell again, backwards here: its texts are its own.
	for i := s.Len() - 1; i >= 0; i-- {
		c := s.At(i)
		c.Verdict, c.Rule = Leak, fmt.Sprintf("rule %d", i/5)
		s.Set(i, c)
	}
	if got, want := len(s.texts), 6+200+1+200; got != want {
		t.Errorf("%d texts once judged, want %d (a verdict and 200 rules more)", got, want)
	}
	// A URL far from its last use is a text of its own, which reads back
	// the same.
	s.Set(0, Cell{Observation: Observation{Endpoint: Endpoint{Method: "GET", URL: "http://h/e/199"}}})
	if c := s.At(0); c.URL != "http://h/e/199" {
		t.Errorf("cell 0 = %s, want http://h/e/199", c.URL)
	}
	// The cells of one endpoint, set in scattered order (the probe records
	// discovery's answers in the order discovery kept them), share its
	// texts with their neighbours.
	sc := NewCells(1000)
	for _, i := range rand.New(rand.NewPCG(1, 2)).Perm(1000) {
		sc.Set(i, Cell{Observation: Observation{Endpoint: Endpoint{Method: "GET", URL: fmt.Sprintf("http://h/e/%d", i/5)}, BodySHA256: fmt.Sprintf("%064x", i/5)}})
	}
	// "", GET, and 200 URLs and digests.
	if got, want := len(sc.texts), 2+400; got != want {
		t.Errorf("%d texts for 1,000 cells of 200 URLs set in scattered order, want %d", got, want)
	}
}

// TestCellsSetConcurrently: the probe's workers set cells at once (run
// with -race).
func TestCellsSetConcurrently(t *testing.T) {
	const n = 2000
	s := NewCells(n)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				s.Set(i, Cell{Observation: Observation{Endpoint: Endpoint{Method: "GET", URL: fmt.Sprintf("http://h/%d", i)}, Role: fmt.Sprint("r", i%5), Status: i}})
			}
		})
	}
	wg.Wait()
	for i, c := range s.All() {
		if c.URL != fmt.Sprintf("http://h/%d", i) || c.Role != fmt.Sprint("r", i%5) || c.Status != i {
			t.Fatalf("cell %d = %+v", i, c.Observation)
		}
	}
}

func TestCellsKeep(t *testing.T) {
	var want []Cell
	s := NewCells(0)
	for i := range 10 {
		c := fullCell(t, i)
		s.Append(c)
		if i%3 == 0 {
			want = append(want, c)
		}
	}
	s.Keep(func(i int) bool { return i%3 == 0 })
	if got := s.Slice(); !reflect.DeepEqual(got, want) {
		t.Errorf("kept\n got %+v\nwant %+v", got, want)
	}
}

func TestCellsJSON(t *testing.T) {
	in := CellsOf(fullCell(t, 1), Cell{}, fullCell(t, 2))
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	// The JSON of a []Cell: encoding/json's own.
	plain, err := json.Marshal(in.Slice())
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != string(plain) {
		t.Errorf("Cells JSON differs from []Cell's:\n got %s\nwant %s", data, plain)
	}
	var back Cells
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !back.Equal(in) {
		t.Errorf("read back\n got %+v\nwant %+v", back.Slice(), in.Slice())
	}
	if null, _ := json.Marshal((*Cells)(nil)); string(null) != "null" {
		t.Errorf("nil Cells = %s, want null", null)
	}
	// A zero Cells is usable.
	var z Cells
	z.Append(Cell{})
	if z.Len() != 1 || !reflect.DeepEqual(z.At(0), Cell{}) {
		t.Errorf("zero Cells after Append: %d cells, %+v", z.Len(), z.At(0))
	}
}

func TestCellsEqual(t *testing.T) {
	a := CellsOf(fullCell(t, 1), fullCell(t, 2))
	b := NewCells(2) // the same cells, texts interned in another order
	b.Set(1, fullCell(t, 2))
	b.Set(0, fullCell(t, 1))
	if !a.Equal(b) {
		t.Error("the same cells set in another order are not Equal")
	}
	c := fullCell(t, 2)
	c.Status++
	b.Set(1, c)
	if a.Equal(b) {
		t.Error("cells that differ in status are Equal")
	}
	if !(*Cells)(nil).Equal(NewCells(0)) || (*Cells)(nil).Equal(a) {
		t.Error("nil Cells: want Equal to an empty one only")
	}
}

// BenchmarkCellsSet sets cells the way the probe does: the five roles of
// one endpoint after another, the texts of few values shared.
func BenchmarkCellsSet(b *testing.B) {
	const n = 100000
	roles := []string{"anonymous", "reader", "editor", "auditor", "admin"}
	cells := make([]Cell, n)
	for i := range cells {
		url := fmt.Sprintf("http://127.0.0.1:8080/e/%d", i/5)
		cells[i] = Cell{Observation: Observation{Endpoint: Endpoint{Method: "GET", URL: url}, Role: roles[i%5],
			Status: 200, Class: Allowed, Why: "status 200", ContentType: "text/html; charset=utf-8",
			BodySHA256: fmt.Sprintf("%064x", i/5), Size: 600}}
		if i%5 == 0 {
			cells[i].Status, cells[i].Class, cells[i].Why = 401, Unauthenticated, "status 401"
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		s := NewCells(n)
		for i := range cells {
			s.Set(i, cells[i])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/cell")
}
