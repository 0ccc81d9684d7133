package roles

import (
	"net/http"
	"net/http/cookiejar"
	"sync"
)

// Session is a role's live signed-in state: its cookie jar, credential
// headers and variables. One Session per role is shared by discovery and
// probing, and is safe for concurrent use.
//
// Session never decides where credentials may go: its caller (crawl's
// scoped transport) calls Attach only for requests to in-scope origins.
// Sign-in flows that obtain credentials at run time (a later issue) update
// the session under its lock and register the new secrets with the
// configuration's Redactor.
type Session struct {
	Role *Role

	mu     sync.RWMutex
	jar    http.CookieJar
	header http.Header       // credential headers, Authorization included
	vars   map[string]string // static vars plus those captured at sign-in
}

// NewSession returns the session of r with its static credentials. The
// anonymous role gets a session with an empty jar and no credentials.
func NewSession(r *Role) *Session {
	jar, _ := cookiejar.New(nil) // cookiejar.New never fails without options
	s := &Session{Role: r, jar: jar, header: http.Header{}, vars: map[string]string{}}
	for k, v := range r.Vars {
		s.vars[k] = v
	}
	l := r.Login
	if l.Basic != nil {
		req := &http.Request{Header: http.Header{}}
		req.SetBasicAuth(l.Basic.Username, l.Basic.Password)
		s.header.Set("Authorization", req.Header.Get("Authorization"))
	}
	if l.Bearer != "" {
		s.header.Set("Authorization", "Bearer "+l.Bearer)
	}
	for k, v := range l.Headers {
		s.header.Set(k, v)
	}
	for k, v := range l.Cookies {
		s.header.Add("Cookie", (&http.Cookie{Name: k, Value: v}).String())
	}
	return s
}

// Name is the role's name.
func (s *Session) Name() string { return s.Role.Name }

// Jar is the session's cookie jar, for cookies the application sets.
func (s *Session) Jar() http.CookieJar { return s.jar }

// Attach adds the session's credentials to req. Call it only for requests
// whose origin is in scope.
func (s *Session) Attach(req *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for k, vs := range s.header {
		if k == "Cookie" {
			for _, v := range vs {
				req.Header.Add("Cookie", v)
			}
			continue
		}
		req.Header[k] = append([]string(nil), vs...)
	}
}

// Var returns the session's variable name.
func (s *Session) Var(name string) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.vars[name]
	return v, ok
}

// SetVar sets a variable, as captured at sign-in.
func (s *Session) SetVar(name, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vars[name] = value
}
