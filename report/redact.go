package report

import (
	"reflect"

	"github.com/permaudit/permaudit/model"
)

// RedactRun passes every free-text string of r through redact (a
// roles.Redactor's Redact): URLs, excerpts, messages, errors, locations,
// sign-in descriptions, baseline reasons. Every output is rendered from
// the run, so redacting the run once, before any writer runs, keeps every
// known secret out of every output, the HTML report's compressed
// evidence included, where a pass over the rendered bytes could not look.
//
// It redacts values, never the rendered text: a secret that happens to
// read like JSON ("true", "1") or like a key of the run cannot break a
// document's structure. Vocabulary (strings of a named type: verdicts,
// classes, severities, body-check outcomes) and map keys are left alone,
// so a secret equal to a word cannot change a verdict or a count, and so
// are the tool's own identifiers (toolMade), which no secret can be in.
// Apply it once: a placeholder may itself hold a short secret.
func RedactRun(r *model.Run, redact func(string) string) {
	if r == nil || redact == nil {
		return
	}
	redactValue(reflect.ValueOf(r).Elem(), redact)
}

var plainString = reflect.TypeFor[string]()

// toolMade names the string fields the tool writes itself: the schema and
// version, the run id, and hashes (fingerprints, body digests). A secret
// of a few characters could otherwise rewrite the schema that reads the
// run back, or the fingerprints that match a baseline.
var toolMade = map[string]bool{
	"Schema": true, "Version": true, "RunID": true,
	"ConfigFingerprint": true, "Fingerprint": true, "InventoryDigest": true,
	"BodySHA256": true, "BodySHA256WithoutIDs": true,
}

func redactValue(v reflect.Value, redact func(string) string) {
	switch v.Kind() {
	case reflect.String:
		if v.Type() == plainString && v.CanSet() {
			v.SetString(redact(v.String()))
		}
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		if cells, ok := v.Interface().(*model.Cells); ok { // rows without fields: each cell in turn
			for i, c := range cells.All() {
				redactValue(reflect.ValueOf(&c).Elem(), redact)
				cells.Set(i, c)
			}
			return
		}
		redactValue(v.Elem(), redact)
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() && !toolMade[f.Name] {
				redactValue(v.Field(i), redact)
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			redactValue(v.Index(i), redact)
		}
	case reflect.Map:
		// Maps of strings (a role's captured variables): values only.
		if v.Type().Elem() == plainString {
			for _, k := range v.MapKeys() {
				v.SetMapIndex(k, reflect.ValueOf(redact(v.MapIndex(k).String())))
			}
		}
	}
	// The run holds no interface, array, or map of anything but counts and
	// strings: TestRedactRunCoversEveryField fails when one is added.
}
