package crawl

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// harFile is the part of a HAR file (HTTP Archive 1.2) discovery reads:
// the method and URL of every request. Headers, cookies, bodies and
// answers are not even decoded, so no credential recorded in the file can
// reach the inventory.
type harFile struct {
	Log *struct {
		Entries []struct {
			Request struct {
				Method string `json:"method"`
				URL    string `json:"url"`
			} `json:"request"`
		} `json:"entries"`
	} `json:"log"`
}

// credentialParams are query parameters dropped from the URLs of a HAR
// file: a recorded session's tokens must not be replayed as every role
// nor shown in the run. Compared case-insensitively, with "-" and "_"
// ignored.
var credentialParams = []string{
	"accesstoken", "idtoken", "refreshtoken", "token", "authtoken", "auth", "authorization",
	"apikey", "key", "secret", "clientsecret", "password", "passwd", "pwd",
	"session", "sessionid", "sid", "jwt", "signature", "sig", "xamzsignature",
	"xamzcredential", "xamzsecuritytoken", "code", "csrf", "csrftoken", "xsrf", "xsrftoken",
}

// harRequest is one request of a HAR file.
type harRequest struct {
	method string
	url    string // absolute, credential parameters dropped
}

// parseHAR returns the requests of a HAR file, in file order.
func parseHAR(data []byte) ([]harRequest, error) {
	var f harFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("not a HAR file (JSON with log.entries): %w", err)
	}
	if f.Log == nil {
		return nil, fmt.Errorf(`not a HAR file: no "log" object`)
	}
	var out []harRequest
	for _, e := range f.Log.Entries {
		m := strings.ToUpper(strings.TrimSpace(e.Request.Method))
		if m == "" || e.Request.URL == "" {
			continue
		}
		out = append(out, harRequest{method: m, url: dropCredentialParams(e.Request.URL)})
	}
	return out, nil
}

// dropCredentialParams removes the credential-like query parameters of
// raw (see credentialParams), leaving the others as written.
func dropCredentialParams(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.User = nil
	var kept []string
	for _, p := range strings.Split(u.RawQuery, "&") {
		k, _, _ := strings.Cut(p, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if isCredentialParam(k) {
			continue
		}
		kept = append(kept, p)
	}
	u.RawQuery = strings.Join(kept, "&")
	return u.String()
}

func isCredentialParam(name string) bool {
	k := paramKey(name)
	for _, c := range credentialParams {
		if k == c {
			return true
		}
	}
	return false
}
