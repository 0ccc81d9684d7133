package judge

import (
	"net/http"
	"strings"
	"testing"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// classifyCase is an answer (status, header, body, the final URL's path
// on the target) and the class and why a classifier gives it.
type classifyCase struct {
	name   string
	c      *Classifier
	status int
	header http.Header
	body   string
	final  string
	class  model.Class
	why    string
}

func runClassifyCases(t *testing.T, target string, tests []classifyCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			class, why := tt.c.Classify(tt.status, h, []byte(tt.body), mustParse(t, target+tt.final))
			if class != tt.class || why != tt.why {
				t.Errorf("Classify(%d %s) = %s %q, want %s %q", tt.status, tt.final, class, why, tt.class, tt.why)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	const target = "http://127.0.0.1:8080"
	withLogin := NewClassifier(parseConfig(t, "target: "+target+"\n"+`
login_url: /login
denials:
  - body: "Sorry, you are not allowed"
  - header: "X-Denied"
  - header: "X-Reason: policy"
    status: 500
  - body: "maintenance"
    status: 200
  - title: "Login   required"
    class: unauthenticated
  - json: error.code
    equals: readapidenied
    class: hidden
  - json: errors[*].code
    equals: 403
  - json: denied
    status: 200
`))
	noLogin := NewClassifier(parseConfig(t, "target: "+target+"\n"+""))
	const loginForm = `<html><body><form action="/login?next=/x" method="post"><input name="u"></form></body></html>`
	const pwField = `<html><body><form><INPUT TYPE=" Password " name="p"></form></body></html>`
	html := http.Header{"Content-Type": {"text/html; charset=utf-8"}}
	tests := []classifyCase{
		{"200", withLogin, 200, html, "<p>hello</p>", "/x", model.Allowed, "status 200"},
		{"204", withLogin, 204, nil, "", "/x", model.Allowed, "status 204"},
		{"unknown 2xx", withLogin, 299, nil, "", "/x", model.Allowed, "status 299"},
		{"denial body on 200", withLogin, 200, html, "<p>Sorry, you are not allowed</p>", "/x", model.Forbidden, "denial signature 1 (forbidden)"},
		{"denial body on 500", withLogin, 500, html, "Sorry, you are not allowed", "/x", model.Forbidden, "denial signature 1 (forbidden)"},
		{"denial header present", withLogin, 200, http.Header{"X-Denied": {"1"}}, "", "/x", model.Forbidden, "denial signature 2 (forbidden)"},
		{"denial header value", withLogin, 500, http.Header{"X-Reason": {"blocked by policy"}}, "", "/x", model.Forbidden, "denial signature 3 (forbidden)"},
		{"denial header value mismatch", withLogin, 500, http.Header{"X-Reason": {"crash"}}, "", "/x", model.Error, "status 500"},
		{"denial header status mismatch", withLogin, 200, http.Header{"X-Reason": {"policy"}}, "", "/x", model.Allowed, "status 200"},
		{"denial status filter", withLogin, 503, nil, "maintenance", "/x", model.Error, "unavailable (status 503)"},
		{"denial status filter match", withLogin, 200, nil, "maintenance", "/x", model.Forbidden, "denial signature 4 (forbidden)"},
		{"title on 200", withLogin, 200, html, "<html><head><title>\n Wiki - Login\n required </title></head><body>x</body></html>", "/x", model.Unauthenticated, "denial signature 5 (unauthenticated)"},
		{"title sniffed", withLogin, 200, nil, "<!DOCTYPE html><title>Login required</title>", "/x", model.Unauthenticated, "denial signature 5 (unauthenticated)"},
		{"title elsewhere in the body", withLogin, 200, html, "<title>Home</title><h1>Login required</h1>", "/x", model.Allowed, "status 200"},
		{"title only the first", withLogin, 200, html, "<title>Home</title><svg><title>Login required</title></svg>", "/x", model.Allowed, "status 200"},
		{"title in json", withLogin, 200, http.Header{"Content-Type": {"application/json"}}, `{"t":"<title>Login required</title>"}`, "/x", model.Allowed, "status 200"},
		{"json code", withLogin, 200, http.Header{"Content-Type": {"application/json"}}, `{"error":{"code":"readapidenied","info":"x"}}`, "/x", model.Hidden, "denial signature 6 (hidden)"},
		{"json other code", withLogin, 200, http.Header{"Content-Type": {"application/json"}}, `{"error":{"code":"badtoken"}}`, "/x", model.Allowed, "status 200"},
		{"json code as number is not text", withLogin, 200, nil, `{"error":{"code":7}}`, "/x", model.Allowed, "status 200"},
		{"json not json", withLogin, 200, nil, `error.code readapidenied`, "/x", model.Allowed, "status 200"},
		{"json any of a list", withLogin, 200, nil, `{"errors":[{"code":400},{"code":403.0}]}`, "/x", model.Forbidden, "denial signature 7 (forbidden)"},
		{"json path present", withLogin, 200, nil, `{"denied":false}`, "/x", model.Forbidden, "denial signature 8 (forbidden)"},
		{"json path present status mismatch", withLogin, 500, nil, `{"denied":true}`, "/x", model.Error, "status 500"},
		{"401", withLogin, 401, nil, "", "/x", model.Unauthenticated, "status 401"},
		{"302 to login", withLogin, 302, http.Header{"Location": {"/login?next=%2Fx"}}, "", "/x", model.Unauthenticated, "redirect to login /login"},
		{"303 to absolute login", withLogin, 303, http.Header{"Location": {target + "/login/"}}, "", "/x", model.Unauthenticated, "redirect to login /login/"},
		{"relative to login", withLogin, 302, http.Header{"Location": {"../login"}}, "", "/a/b", model.Unauthenticated, "redirect to login /login"},
		{"302 elsewhere", withLogin, 302, http.Header{"Location": {"/home"}}, "", "/x", model.Other, "status 302"},
		{"302 to signin without login_url configured", withLogin, 302, http.Header{"Location": {"/users/sign_in"}}, "", "/x", model.Other, "status 302"},
		{"guessed login", noLogin, 302, http.Header{"Location": {"/users/Sign-In?r=1"}}, "", "/x", model.Unauthenticated, "redirect to login /users/Sign-In"},
		{"guessed log-in", noLogin, 301, http.Header{"Location": {"/log-in"}}, "", "/x", model.Unauthenticated, "redirect to login /log-in"},
		{"guess misses", noLogin, 302, http.Header{"Location": {"/home"}}, "", "/x", model.Other, "status 302"},
		{"304", withLogin, 304, nil, "", "/x", model.Other, "status 304"},
		{"3xx without location", withLogin, 302, nil, "", "/x", model.Other, "status 302"},
		{"login form in place", withLogin, 200, html, loginForm, "/account", model.Unauthenticated, "login page served in place (login form)"},
		{"password field in place", noLogin, 200, html, pwField, "/account", model.Unauthenticated, "login page served in place (password field)"},
		{"sniffed html", noLogin, 200, nil, "<html><body>" + pwField, "/account", model.Unauthenticated, "login page served in place (password field)"},
		{"login page itself", withLogin, 200, html, loginForm + pwField, "/login", model.Allowed, "status 200"},
		{"password field in json", noLogin, 200, http.Header{"Content-Type": {"application/json"}}, `{"x":"<input type=password>"}`, "/x", model.Allowed, "status 200"},
		{"form elsewhere", withLogin, 200, html, `<form action="/search"><input name=q></form>`, "/x", model.Allowed, "status 200"},
		{"403", withLogin, 403, nil, "", "/x", model.Forbidden, "status 403"},
		{"404", withLogin, 404, nil, "", "/x", model.Hidden, "status 404"},
		{"410", withLogin, 410, nil, "", "/x", model.Hidden, "status 410"},
		{"429", withLogin, 429, nil, "", "/x", model.Error, "rate limited (status 429)"},
		{"503", withLogin, 503, nil, "", "/x", model.Error, "unavailable (status 503)"},
		{"500", withLogin, 500, nil, "", "/x", model.Error, "status 500"},
		{"unknown 5xx", withLogin, 599, nil, "", "/x", model.Error, "status 599"},
		{"400", withLogin, 400, nil, "", "/x", model.Other, "status 400"},
		{"405", withLogin, 405, nil, "", "/x", model.Other, "status 405"},
		{"422", withLogin, 422, nil, "", "/x", model.Other, "status 422"},
		{"unknown 4xx", withLogin, 499, nil, "", "/x", model.Other, "status 499"},
		{"unknown 4xx is not 401", withLogin, 461, nil, "", "/x", model.Other, "status 461"},
		{"1xx", withLogin, 103, nil, "", "/x", model.Other, "status 103"},
	}
	runClassifyCases(t, target, tests)
}

// TestLoginPage: a password field is a login signature only as the
// password field of a sign-in form. A page full of data with a form that
// sets someone's password is an answer, not a login page: reading it as
// one would turn a leak into a pass.
func TestLoginPage(t *testing.T) {
	const target = "http://127.0.0.1:8080"
	withLogin := NewClassifier(parseConfig(t, "target: "+target+"\n"+"login_url: /login\n"))
	noLogin := NewClassifier(parseConfig(t, "target: "+target+"\n"+""))
	page := func(forms string) string {
		return `<!doctype html><html><body><h1>Users</h1><table><tr><td>alice@example.com</td><td>admin</td></tr></table>` + forms + `</body></html>`
	}
	const (
		signIn     = `<form method="post"%s><input name="username"><input type="password" name="password"><button>Sign in</button></form>`
		newUser    = `<form method="post" action="/admin/users"><input name="email"><input type="password" name="password"><button>Create user</button></form>`
		changePw   = `<form method="post" action=""><input type="password" name="current" autocomplete="current-password"><input type="password" name="new"><input type="password" name="confirm"></form>`
		newPwField = `<form method="post"><input name="email"><input type="password" name="password" autocomplete="section-x New-Password"></form>`
	)
	const (
		pwField   = "login page served in place (password field)"
		loginForm = "login page served in place (login form)"
	)
	tests := []struct {
		name  string
		c     *Classifier
		body  string
		final string
		class model.Class
		why   string
	}{
		// The reviewer's page: data, and a form setting a new user's password.
		{"new-user form posting elsewhere", withLogin, page(newUser), "/admin/", model.Allowed, "status 200"},
		{"new-user page posting to the list", withLogin, page(newUser), "/admin/users/new", model.Allowed, "status 200"},
		{"change password, action empty", withLogin, page(changePw), "/account/password", model.Allowed, "status 200"},
		{"change password without login_url", noLogin, page(changePw), "/account/password", model.Allowed, "status 200"},
		{"new-password field", withLogin, page(newPwField), "/admin/users/new", model.Allowed, "status 200"},
		{"new-password field without login_url", noLogin, page(newPwField), "/admin/users/new", model.Allowed, "status 200"},
		{"registration: password and confirmation", noLogin, page(`<form><input type=password name=p><input type=password name=p2></form>`), "/register", model.Allowed, "status 200"},
		{"nested form start ignored", withLogin, page(`<form action="/admin/users"><form action=""><input type=password></form>`), "/admin/", model.Allowed, "status 200"},
		{"form= names a form posting elsewhere", withLogin, page(`<form id="nu" action="/admin/users"></form><input type="password" form="nu">`), "/admin/", model.Allowed, "status 200"},
		{"form= overrides the enclosing form", withLogin, page(`<form action=""><input type=password form="out"></form><form id="out" action="/admin/users"></form>`), "/admin/", model.Allowed, "status 200"},
		{"orphans: two password fields", withLogin, page(`<input type=password><input type=password>`), "/admin/", model.Allowed, "status 200"},

		// A login served in place: posted back to the page, or to the login URL.
		{"sign-in, action empty", withLogin, page(strings.Replace(signIn, "%s", ` action=""`, 1)), "/account", model.Unauthenticated, pwField},
		{"sign-in, no action", withLogin, page(strings.Replace(signIn, "%s", "", 1)), "/account", model.Unauthenticated, pwField},
		{"sign-in, action #", withLogin, page(strings.Replace(signIn, "%s", ` action="#"`, 1)), "/account", model.Unauthenticated, pwField},
		{"sign-in, action the same path", withLogin, page(strings.Replace(signIn, "%s", ` action="/account?next=%2Faccount"`, 1)), "/account/", model.Unauthenticated, pwField},
		{"sign-in, action the login URL", withLogin, page(strings.Replace(signIn, "%s", ` action="/login?next=/account"`, 1)), "/account", model.Unauthenticated, loginForm},
		{"sign-in, absolute login URL", withLogin, page(strings.Replace(signIn, "%s", ` action="`+target+`/login"`, 1)), "/account", model.Unauthenticated, loginForm},
		{"sign-in next to a search form", withLogin, page(`<form action="/search"><input name=q></form>` + strings.Replace(signIn, "%s", "", 1)), "/account", model.Unauthenticated, pwField},
		{"sign-in next to a new-user form", withLogin, page(newUser + strings.Replace(signIn, "%s", ` action=""`, 1)), "/admin/users", model.Unauthenticated, pwField},
		{"current-password field", withLogin, page(`<form><input type=password autocomplete="current-password"></form>`), "/account", model.Unauthenticated, pwField},
		{"form= names the sign-in form", withLogin, page(`<form id="si" action=""></form><input type="password" form="si">`), "/account", model.Unauthenticated, pwField},
		{"form= names no form: outside any form", withLogin, page(`<input type="password" form="gone">`), "/account", model.Unauthenticated, pwField},
		{"password field outside any form", withLogin, page(`<input type="password">`), "/account", model.Unauthenticated, pwField},
		{"single password field, no login_url", noLogin, page(`<form action="/session"><input type=password></form>`), "/account", model.Unauthenticated, pwField},
		{"single password field outside a form, no login_url", noLogin, page(`<input type=password>`), "/account", model.Unauthenticated, pwField},
		{"login page itself", withLogin, page(strings.Replace(signIn, "%s", "", 1)), "/login", model.Allowed, "status 200"},
		// Upper case is HTML too: the look for a form or a password before
		// tokenizing folds case.
		{"sign-in in upper case", withLogin, page(`<FORM METHOD=POST><INPUT NAME=u><INPUT TYPE=PASSWORD NAME=p></FORM>`), "/account", model.Unauthenticated, pwField},
		{"login form in upper case, no password", withLogin, page(`<FORM ACTION="/LOGIN"></FORM>`), "/account", model.Allowed, "status 200"},
		{"login form, mixed case, no password", withLogin, page(`<Form action="/login"><input name=u></Form>`), "/account", model.Unauthenticated, loginForm},
		{"no form, no password", withLogin, page(`<a href="/login">Sign in</a>`), "/account", model.Allowed, "status 200"},
	}
	html := http.Header{"Content-Type": {"text/html; charset=utf-8"}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			class, why := tt.c.Classify(200, html, []byte(tt.body), mustParse(t, target+tt.final))
			if class != tt.class || why != tt.why {
				t.Errorf("Classify(200 %s) = %s %q, want %s %q\n%s", tt.final, class, why, tt.class, tt.why, tt.body)
			}
		})
	}
}

// TestClassifyFrontControllerLogin: where every page is served at one
// path (MediaWiki's /index.php, DokuWiki's /doku.php), the login URL's
// query names the sign-in page. A page of that path, its search form and
// a redirect to another of its pages are not the login page; the login
// page with return keys added, or a form posting to it, are. A return
// key or a path value in the configured login URL is not required.
func TestClassifyFrontControllerLogin(t *testing.T) {
	const target = "http://127.0.0.1:8080"
	mw := NewClassifier(parseConfig(t, "target: "+target+"\nlogin_url: /index.php?title=Special:UserLogin&returnto=Main_Page\n"))
	next := NewClassifier(parseConfig(t, "target: "+target+"\nlogin_url: /login?next=/dashboard\n"))
	html := http.Header{"Content-Type": {"text/html; charset=utf-8"}}
	const search = `<form action="/index.php" id="searchform"><input type="hidden" name="title" value="Special:Search"><input name="search"></form>`
	const login = `<form name="userlogin" method="post" action="/index.php?title=Special:UserLogin&amp;returnto=Special%3APreferences"><input name="wpName"></form>`
	page := func(body string) string { return "<html><body>" + body + "</body></html>" }
	tests := []classifyCase{
		{"page at the path, search form", mw, 200, html, page(search), "/index.php/Help_page", model.Allowed, "status 200"},
		{"page at the path and query, search form", mw, 200, html, page(search), "/index.php?title=Help_page", model.Allowed, "status 200"},
		{"login form served in place", mw, 200, html, page(search + login), "/index.php?title=Special:Preferences", model.Unauthenticated, "login page served in place (login form)"},
		{"the login page itself", mw, 200, html, page(login), "/index.php?title=Special:UserLogin", model.Allowed, "status 200"},
		{"redirect to the login page, other return keys", mw, 302, http.Header{"Location": {"/index.php?title=Special%3AUserLogin&returnto=Special%3APreferences&warning=prefsnologintext2"}}, "", "/index.php/Special:Preferences", model.Unauthenticated, "redirect to login /index.php"},
		{"redirect to another page", mw, 302, http.Header{"Location": {"/index.php?title=Main_Page"}}, "", "/index.php", model.Other, "status 302"},
		{"redirect to the path alone", mw, 301, http.Header{"Location": {"/index.php"}}, "", "/", model.Other, "status 301"},
		{"a path value is not required", next, 302, http.Header{"Location": {"/login?next=/admin"}}, "", "/admin", model.Unauthenticated, "redirect to login /login"},
		{"nor any query", next, 302, http.Header{"Location": {"/login"}}, "", "/admin", model.Unauthenticated, "redirect to login /login"},
	}
	runClassifyCases(t, target, tests)
}

func TestClassifyWithoutFinalURL(t *testing.T) {
	c := NewClassifier(&roles.Config{Target: "http://127.0.0.1:8080", LoginURL: "/login"})
	class, why := c.Classify(302, http.Header{"Location": {"/login"}}, nil, nil)
	if class != model.Unauthenticated || why != "redirect to login /login" {
		t.Errorf("Classify(302 /login, no final URL) = %s %q, want unauthenticated", class, why)
	}
}
