package demoapp

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// answer is what one request saw.
type answer struct {
	Status   int
	Location string
	Header   http.Header
	Body     string
}

// fixture is the demo behind an httptest server, and a client that never
// follows redirects.
type fixture struct {
	app    *App
	srv    *httptest.Server
	client *http.Client
}

func newFixture(t *testing.T, opts Options) *fixture {
	t.Helper()
	app := New(opts)
	srv := httptest.NewServer(app)
	t.Cleanup(srv.Close)
	c := srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.Timeout = 5 * time.Second
	return &fixture{app: app, srv: srv, client: c}
}

// setCredentials signs req in as role with the demo's static credentials.
func setCredentials(req *http.Request, role string) {
	switch role {
	case Customer:
		req.AddCookie(&http.Cookie{Name: CustomerCookieName, Value: CustomerCookie})
	case Support:
		req.Header.Set("Authorization", "Bearer "+SupportToken)
	case Admin:
		req.SetBasicAuth(AdminUsername, AdminPassword)
	}
}

// get requests target as role; edit, when set, changes the request first.
func (f *fixture) get(t *testing.T, role, target string, edit ...func(*http.Request)) answer {
	t.Helper()
	return f.do(t, http.MethodGet, role, target, edit...)
}

func (f *fixture) do(t *testing.T, method, role, target string, edit ...func(*http.Request)) answer {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+target, nil)
	if err != nil {
		t.Fatalf("new request %s %s: %v", method, target, err)
	}
	setCredentials(req, role)
	for _, e := range edit {
		e(req)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s as %s: %v", method, target, role, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s as %s: read body: %v", method, target, role, err)
	}
	return answer{Status: resp.StatusCode, Location: resp.Header.Get("Location"), Header: resp.Header, Body: string(body)}
}
