package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestWriteFileAtomic: outputs stream to a temporary file that replaces
// the output only when the writer succeeded; a writer that fails half way
// leaves the previous report whole and no temporary file behind. The
// CLI used to render each output whole in memory first: at a million
// cells that was the audit's peak memory.
func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.json")
	if err := writeFileAtomic(path, func(w io.Writer) error { _, err := io.WriteString(w, "first\n"); return err }); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := writeFileAtomic(path, func(w io.Writer) error {
		io.WriteString(w, "half of a second report")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("a failing writer: got %v, want its error", err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "first\n" {
		t.Fatalf("after a failing writer the file holds %q (%v), want the first report", got, err)
	}
	fi, err := os.Stat(path)
	if want := 0o644 &^ umask(t); err != nil || fi.Mode().Perm() != want {
		t.Errorf("mode %v (%v), want %v (0644 less the umask, as os.WriteFile)", fi.Mode(), err, want)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	// A report replaced keeps its permissions, and a link to it stays a
	// link.
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "latest.json")
	if err := os.Symlink("report.json", link); err != nil {
		t.Fatal(err)
	}
	if err := writeFileAtomic(link, func(w io.Writer) error { _, err := io.WriteString(w, "second\n"); return err }); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v %v", fi, err)
	}
	if got, _ := os.ReadFile(path); string(got) != "second\n" {
		t.Errorf("the link's target holds %q, want the second report", got)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode after replacing %v (%v), want 0600 kept", fi.Mode(), err)
	}
	// A path that is no regular file is written in place, never replaced.
	if err := writeFileAtomic(os.DevNull, func(w io.Writer) error { _, err := io.WriteString(w, "x"); return err }); err != nil {
		t.Fatalf("%s: %v", os.DevNull, err)
	}
	if fi, err := os.Stat(os.DevNull); err != nil || fi.Mode()&os.ModeDevice == 0 {
		t.Fatalf("%s is no longer a device: %v %v", os.DevNull, fi, err)
	}
	if err := writeFileAtomic(filepath.Join(dir, "missing", "r.json"), func(io.Writer) error { return nil }); err == nil {
		t.Error("a missing directory: no error")
	}
}

// umask is the process's file mode creation mask, read by making a file.
func umask(t *testing.T) os.FileMode {
	p := filepath.Join(t.TempDir(), "probe")
	if err := os.WriteFile(p, nil, 0o777); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return 0o777 &^ fi.Mode().Perm()
}
