package report

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/permaudit/permaudit/model"
)

// TestRendersV1Runs reads the v1 runs kept in model/testdata (written by
// the v1 writer from this package's golden fixtures) and renders them:
// every format but json (now v2) and html (which shows pass cells'
// excerpts, which v1 kept) gives the golden output of the run they were
// written from.
func TestRendersV1Runs(t *testing.T) {
	for file, golden := range map[string]string{"run-v1.json": "run", "rich-v1.json": "rich"} {
		f, err := os.Open(filepath.Join("..", "model", "testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		run, err := model.ReadRun(f)
		f.Close()
		if err != nil {
			t.Fatalf("read %s: %v", file, err)
		}
		for _, format := range Formats() {
			t.Run(file+"/"+format, func(t *testing.T) {
				w, _ := WriterFor(format)
				got := render(t, w, run)
				if format == "json" || format == "html" {
					return // rendered without error
				}
				want, err := os.ReadFile(filepath.Join("testdata", golden+"."+format+".golden"))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s rendered as %s differs from testdata/%s.%s.golden", file, format, golden, format)
				}
			})
		}
	}
}
