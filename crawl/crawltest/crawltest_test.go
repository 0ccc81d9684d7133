package crawltest

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestAnswerIsWhatIsServed checks that Answer, the truth tests compare
// with, is what the server sends, for each role and route.
func TestAnswerIsWhatIsServed(t *testing.T) {
	site := NewDefaultSite()
	defer site.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	creds := map[string]func(*http.Request){
		Anonymous: func(*http.Request) {},
		User:      func(r *http.Request) { r.SetBasicAuth(UserName, UserPassword) },
		Admin:     func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+AdminToken) },
	}
	for _, rt := range DefaultRoutes() {
		if rt.Slow {
			continue
		}
		for role, attach := range creds {
			req, _ := http.NewRequest("GET", site.URL+rt.Path, nil)
			attach(req)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("GET %s: %v", rt.Path, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			a := site.Answer(role, rt.Path)
			if resp.StatusCode != a.Status || resp.Header.Get("Location") != a.Location {
				t.Errorf("GET %s as %s: %d %q, Answer says %d %q", rt.Path, role, resp.StatusCode, resp.Header.Get("Location"), a.Status, a.Location)
			}
			for _, l := range a.Links {
				if !strings.Contains(string(body), `href="`+l+`"`) && !strings.Contains(string(body), "href=\""+strings.ReplaceAll(l, "&", "&amp;")+"\"") {
					t.Errorf("GET %s as %s: body lacks link %q", rt.Path, role, l)
				}
			}
		}
	}
	roles := map[string]bool{}
	for _, r := range site.Requests() {
		roles[r.Role] = true
	}
	if len(roles) != 3 || roles[Invalid] {
		t.Errorf("identified roles %v, want anonymous, user and admin", roles)
	}
}

func TestIdentify(t *testing.T) {
	tests := []struct {
		name string
		set  func(*http.Request)
		want string
	}{
		{"none", func(*http.Request) {}, Anonymous},
		{"basic", func(r *http.Request) { r.SetBasicAuth(UserName, UserPassword) }, User},
		{"bad basic", func(r *http.Request) { r.SetBasicAuth(UserName, "x") }, Invalid},
		{"bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+AdminToken) }, Admin},
		{"api key", func(r *http.Request) { r.Header.Set("X-Api-Key", UserAPIKey) }, User},
		{"cookie", func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "session", Value: AdminCookie}) }, Admin},
		{"jar cookie only", func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "appsess", Value: JarCookie}) }, Anonymous},
		{"conflict", func(r *http.Request) {
			r.Header.Set("X-Api-Key", UserAPIKey)
			r.Header.Set("Authorization", "Bearer "+AdminToken)
		}, Invalid},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest("GET", "http://127.0.0.1/", nil)
		tt.set(req)
		if got := Identify(req); got != tt.want {
			t.Errorf("%s: Identify = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestReachable(t *testing.T) {
	site := NewDefaultSite()
	defer site.Close()
	has := func(list []string, path string) bool { return slices.Contains(list, site.URL+path) }
	anon, admin := site.Reachable(Anonymous, nil), site.Reachable(Admin, nil)
	checks := []struct {
		list []string
		path string
		want bool
	}{
		{anon, "/", true},
		{anon, "/products/?a=1&b=2", true},
		{anon, "/login?next=%2Faccount", true},
		{anon, "/admin/users", false},
		{admin, "/admin/users", true},
		{admin, "/logout", true}, // keep nil: nothing excluded
		{anon, "/api/hidden", false},
	}
	for _, c := range checks {
		if got := has(c.list, c.path); got != c.want {
			t.Errorf("Reachable holds %s: %v, want %v", c.path, got, c.want)
		}
	}
}
