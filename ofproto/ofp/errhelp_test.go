package ofp

import (
	"errors"
	"testing"
)

// checkErr fails unless err is an *Error with the given type and code.
func checkErr(t testing.TB, name string, err error, typ, code uint16) {
	t.Helper()
	var oe *Error
	if !errors.As(err, &oe) {
		t.Errorf("%s: error %v, want *Error type %d code %d", name, err, typ, code)
		return
	}
	if oe.ErrType != typ || oe.Code != code {
		t.Errorf("%s: got type %d code %d (%v), want type %d code %d", name, oe.ErrType, oe.Code, oe, typ, code)
	}
}
