package authapp

import _ "embed"

//go:embed permaudit.yaml
var config []byte

// Config returns the permaudit configuration that audits the application
// (its target is a placeholder: replace it with Server.URL). Every role
// signs in with a flow and declares a check; the passwords come from
// Env.
func Config() []byte { return append([]byte(nil), config...) }
