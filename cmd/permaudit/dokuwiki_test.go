package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/permaudit/permaudit/model"
)

// The DokuWiki integration suite (testdata/dokuwiki/README.md): a real,
// server-rendered application with a form login, CSRF tokens, groups and
// its own ACL, installed from Debian (apt-get install dokuwiki php-cli)
// and audited against its documented policy.
//
// Run it alone with:
//
//	go test ./cmd/permaudit -run TestDokuWiki -v
//
// Each case starts testdata/dokuwiki/serve.sh (PHP's built-in server on a
// free 127.0.0.1 port, a private configuration and data directory, the
// package's code) with the case's planted misconfigurations, hashes the
// wiki's data before and after the audit (no audit may write), and checks
// the findings. Without DokuWiki or PHP the suite is skipped, except with
// CI=true, where it fails.

const dwDir = "../../testdata/dokuwiki"

// dwPasswords are the fixture's test accounts (conf/users.auth.php).
var dwPasswords = map[string]string{
	"DW_ALICE_PASSWORD": "dw-alice-pass-1",
	"DW_BOB_PASSWORD":   "dw-bob-pass-1",
	"DW_ADMIN_PASSWORD": "dw-admin-pass-1",
}

// dwLeak is one kind of leak a loosening causes: a role and the rule
// whose cells it reaches, with one cell that must be among them.
type dwLeak struct {
	role, rule, must string
}

func TestDokuWiki(t *testing.T) {
	if testing.Short() {
		t.Skip("the DokuWiki suite runs a real DokuWiki; skipped with -short")
	}
	for _, need := range []string{"/usr/share/dokuwiki/doku.php", "/etc/dokuwiki", "/var/lib/dokuwiki/data"} {
		if _, err := os.Stat(need); err != nil {
			skipOrFail(t, "DokuWiki is not installed (apt-get install dokuwiki php-cli): %v", err)
		}
	}
	if _, err := exec.LookPath("php"); err != nil {
		skipOrFail(t, "no php command (apt-get install php-cli): %v", err)
	}
	cases := []struct {
		name   string
		loosen []string
		leaks  []dwLeak
	}{
		{name: "strict"},
		// Three planted misconfigurations at once, each in DokuWiki's own
		// permission settings (testdata/dokuwiki/loosen): each reaches
		// other cells, so one audit finds them all.
		{name: "loosened", loosen: []string{"team-public", "staff-users", "staff-manager"}, leaks: []dwLeak{
			{"anonymous", "team pages", "/doku.php?id=team:plan"},
			{"alice", "staff pages", "/doku.php?id=staff:salaries"},
			{"bob", "admin menu", "/doku.php?do=admin&id=start"},
			{"bob", "admin tools", "/doku.php?do=admin&id=start&page=revert"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dw := startDokuWiki(t, tc.loosen...)
			before := dwDataHash(t, dw.dir)
			start := time.Now()
			code, run, out := auditDokuWiki(t, dw.url)
			wall := time.Since(start)
			if after := dwDataHash(t, dw.dir); !maps.Equal(before, after) {
				t.Errorf("the audit wrote to the wiki: %s", dwHashDiff(before, after))
			}
			if left := dwSignedInSessions(t, dw.dir); len(left) > 0 {
				t.Errorf("the audit left signed-in sessions on the wiki (logout: in permaudit.yaml): %q", left)
			}
			if !run.Complete {
				t.Errorf("run incomplete: %s", run.Incomplete)
			}
			var reqs int64
			if run.Traffic != nil {
				reqs = run.Traffic.Requests
			}
			t.Logf("%s: %d endpoints, %d observations, %d requests (%.2f per cell), %d findings, %d notes, %v",
				tc.name, len(run.Inventory.Entries), run.Observations.Len(), reqs,
				float64(reqs)/float64(max(1, run.Observations.Len())), len(run.Findings), len(run.Notes), wall.Round(time.Second))
			for _, ri := range run.Roles {
				if ri.Name != model.Anonymous && (ri.SignIn != "form" || ri.SignInError != "" || ri.SessionLost != 0) {
					t.Errorf("role %s: %+v, want a form sign-in and no session lost", ri.Name, ri)
				}
			}
			found := map[dwLeak]bool{}
			for _, f := range run.Findings {
				ok := false
				for _, l := range tc.leaks {
					if f.Verdict == model.Leak && f.Role == l.role && f.Rule == l.rule {
						ok = true
						found[l] = found[l] || f.Path == l.must
					}
				}
				if !ok {
					t.Errorf("false finding: %s %s %s as %s (rule %q): %s", f.Verdict, f.Method, f.Path, f.Role, f.Rule, f.Message)
				}
			}
			for _, l := range tc.leaks {
				if !found[l] {
					t.Errorf("planted leak not found: %s as %s (rule %q)", l.must, l.role, l.rule)
				}
			}
			wantCode := exitOK
			if len(tc.leaks) > 0 {
				wantCode = exitGate
			}
			if code != wantCode {
				t.Errorf("exit code %d, want %d\n%s", code, wantCode, out)
			}
			if t.Failed() {
				t.Logf("audit output:\n%s", out)
			}
		})
	}
}

type dokuWiki struct {
	url, dir string
}

// startDokuWiki runs serve.sh on a free port until the test ends.
func startDokuWiki(t *testing.T, loosen ...string) dokuWiki {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "wiki")
	for attempt := 0; ; attempt++ {
		base, err := serveDokuWiki(t, dir, loosen)
		if err == nil {
			return dokuWiki{url: base, dir: dir}
		}
		if attempt == 2 {
			t.Fatalf("start DokuWiki: %v", err)
		}
		t.Logf("start DokuWiki: %v; trying another port", err)
	}
}

func serveDokuWiki(t *testing.T, dir string, loosen []string) (string, error) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().(*net.TCPAddr)
	l.Close()
	var logs bytes.Buffer
	args := append([]string{filepath.Join(dwDir, "serve.sh"), dir, fmt.Sprint(addr.Port)}, loosen...)
	cmd := exec.Command("bash", args...)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	// PHP's server forks workers: stop them all, as one process group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return "", err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}
	return waitAnswering(t, "DokuWiki (serve.sh) on "+addr.String(), "http://"+addr.String(), "/doku.php?id=start", 30*time.Second, exited, stop, &logs)
}

// dwDataHash hashes what a write would change: pages and their history,
// media, the change logs and subscriptions in meta, and the configuration
// (users, ACL, settings). Derived files are left out: caches, the search
// index, page metadata that rendering refreshes (*.meta, *.indexed), logs,
// locks and temporary files, and the cookie salt made at the first request.
func dwDataHash(t *testing.T, dir string) map[string]string {
	t.Helper()
	sums := map[string]string{}
	for _, sub := range []string{"data/pages", "data/attic", "data/media", "data/media_attic", "data/media_meta", "data/meta", "conf"} {
		root := filepath.Join(dir, sub)
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			name := d.Name()
			if strings.HasSuffix(name, ".meta") || strings.HasSuffix(name, ".indexed") || strings.HasPrefix(name, "_htcookiesalt") {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			s := sha256.Sum256(b)
			rel, _ := filepath.Rel(dir, p)
			sums[rel] = hex.EncodeToString(s[:])
			return nil
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("hash the wiki's data: %v", err)
		}
	}
	if len(sums) == 0 {
		t.Fatalf("no wiki data under %s", dir)
	}
	return sums
}

func dwHashDiff(before, after map[string]string) string {
	var out []string
	for k, v := range after {
		if w, ok := before[k]; !ok {
			out = append(out, "new "+k)
		} else if w != v {
			out = append(out, "changed "+k)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			out = append(out, "removed "+k)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// dwSignedInSessions lists the users whose PHP sessions (serve.sh keeps
// them in DIR/sessions) are still signed in: DokuWiki keeps the user in
// the session as serialized PHP, `s:4:"user";s:5:"alice"`.
func dwSignedInSessions(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "sessions", "sess_*"))
	if err != nil {
		t.Fatal(err)
	}
	var users []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range []string{"alice", "bob", "admin"} {
			if bytes.Contains(b, fmt.Appendf(nil, `s:4:"user";s:%d:"%s"`, len(u), u)) {
				users = append(users, u)
			}
		}
	}
	sort.Strings(users)
	return users
}

func auditDokuWiki(t *testing.T, base string) (int, *model.Run, string) {
	t.Helper()
	a := auditFixture(t, filepath.Join(dwDir, "permaudit.yaml"), base, dwPasswords, 8*time.Minute)
	for i, o := range a.outputs {
		for name, pw := range dwPasswords {
			if strings.Contains(o, pw) {
				t.Errorf("output %d shows the password of %s", i, name)
			}
		}
	}
	if len(a.run.Inventory.Entries) == 0 {
		t.Fatalf("empty inventory\n%s", a.printed)
	}
	return a.code, a.run, a.printed
}
