package demoapp

import (
	"bytes"
	_ "embed"
)

// The demo's static credentials. They are demo values, known to everyone;
// permaudit still treats them as secrets (it reads them from the
// environment, see Env, and redacts them from every output).
const (
	// CustomerCookieName and CustomerCookie sign the customer in (Carol,
	// user 21, who owns order 17): Cookie: acme_session=<CustomerCookie>.
	CustomerCookieName = "acme_session"
	CustomerCookie     = "cst-3f9a1c7e5b20d4"
	// SupportToken signs support in: Authorization: Bearer <SupportToken>.
	SupportToken = "sup-8d2e6b41a9c07f"
	// AdminUsername and AdminPassword sign the admin in with HTTP Basic.
	AdminUsername = "admin"
	AdminPassword = "adm-51c9e7f3b2a8"
)

// The environment variables the embedded configuration references.
const (
	EnvCustomerCookie = "DEMO_CUSTOMER_COOKIE"
	EnvSupportToken   = "DEMO_SUPPORT_TOKEN"
	EnvAdminPassword  = "DEMO_ADMIN_PASSWORD"
)

// ConfigName is the name to give the embedded configuration in messages.
const ConfigName = "demo/permaudit.yaml"

//go:embed permaudit.yaml
var config []byte

// Config returns a copy of the demo's permaudit configuration: its roles
// and credentials (as ${DEMO_...} references, see Env), its denial
// signature and the access matrix of the intended policy. Its target is a
// placeholder for the address the demo listens on.
func Config() []byte { return bytes.Clone(config) }

// Env returns the environment the embedded configuration needs: each
// ${NAME} it references and the demo credential it stands for.
func Env() map[string]string {
	return map[string]string{
		EnvCustomerCookie: CustomerCookie,
		EnvSupportToken:   SupportToken,
		EnvAdminPassword:  AdminPassword,
	}
}

// LookupEnv looks name up in Env, with the signature of os.LookupEnv, so
// it can stand for the environment when the embedded configuration is
// loaded.
func LookupEnv(name string) (string, bool) {
	v, ok := Env()[name]
	return v, ok
}
